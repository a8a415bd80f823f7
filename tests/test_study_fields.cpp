// The study's field table (studies/spec/study_fields.hpp): every key a study file takes has its
// command-line flag, the two read a value alike, and the point key it builds is the one points
// had before the table existed (results recorded before must resume).
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "studies/cli/point_options.hpp"
#include "studies/spec/study_fields.hpp"

using trikv::StudyField;
using trikv::StudySpec;

namespace {

const std::string kBase = "caches = [\"factor\"]\nn = [16]\nd = [8]\n";

// A value other than the default for every field, as a file writes it and as a flag takes it.
// A field added without one here fails the first test: say how it is given.
const std::map<std::string, std::pair<std::string, std::string>> kSamples = {
    {"n", {"[8, 12]", "8 12"}},         {"d", {"[4]", "4"}},
    {"heads", {"[2, 4]", "2 4"}},       {"workload", {"\"var\"", "var"}},
    {"kind", {"[\"clustered\", \"sparse\"]", "clustered sparse"}},
    {"seed", {"[3, 4]", "3 4"}},        {"warmup", {"0", "0"}},
    {"repetitions", {"7", "7"}},        {"threads", {"1", "1"}},
    {"schedule", {"[1, 3]", "1 3"}},    {"scale", {"[0.5, 0.25]", "0.5 0.25"}},
    {"kv_heads", {"[1]", "1"}},         {"variant", {"[\"rank1\", \"strassen\"]", "rank1 strassen"}},
    {"k2_bias", {"0.5", "0.5"}},        {"v2_bias", {"-2", "-2"}},
    {"accuracy_positions", {"5", "5"}}, {"clusters", {"3", "3"}},
    {"radius", {"0.25", "0.25"}},       {"nonzeros", {"[2, 3]", "2 3"}},
    {"support", {"\"blocks\"", "blocks"}}, {"dir", {"\"/data/x\"", "/data/x"}},
    {"layer", {"[1, 2]", "1 2"}},       {"head", {"[0, 3]", "0 3"}},
    {"k2_mean", {"0.125", "0.125"}},    {"v2_mean", {"1.5", "1.5"}},
    {"budget", {"[\"25%\", 4096]", "25% 4096"}},
};

std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

// The base study without the lines the field itself gives (var has no n: its tokens are the schedule's).
std::string base_for(const std::string& key) {
    return std::string("caches = [\"factor\"]\n") + (key == "n" || key == "workload" ? "" : "n = [16]\n") +
           (key == "d" ? "" : "d = [8]\n");
}

StudySpec from_flags(const std::vector<std::string>& args, const std::string& base = kBase) {
    CLI::App app;
    trikv::cli::PointOptions options;
    trikv::cli::add_point_options(&app, options);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
    app.parse(reversed);
    StudySpec spec = trikv::parse_study(base, "base.toml");
    trikv::cli::apply_point_options(options, spec);
    return spec;
}

}  // namespace

TEST_CASE("every study field is a key of the file and a flag of the command line, read alike", "[study][fields]") {
    const std::string base = trikv::to_toml(trikv::parse_study(kBase, "base.toml"));
    for (const StudyField& field : trikv::study_fields()) {
        if (field.help.empty()) continue;  // dtype: read from old files only
        INFO(field.key << " / " << field.flag);
        const auto sample = kSamples.find(field.key);
        REQUIRE(sample != kSamples.end());
        const std::string line = field.key + " = " + sample->second.first + "\n";
        const std::string base_file = base_for(field.key);
        const std::string file = field.in_data ? base_file + "[data]\n" + line : base_file + line;
        std::vector<std::string> args;
        for (const std::string& word : words(sample->second.second)) {
            args.push_back(field.flag);
            args.push_back(word);
        }
        const std::string by_file = trikv::to_toml(trikv::parse_study(file, "s.toml"));
        const std::string by_flags = trikv::to_toml(from_flags(args, base_file));
        CHECK(by_flags == by_file);
        CHECK(by_file != base);  // the sample changed something the resolved study records
    }
}

TEST_CASE("a field's value out of range is refused alike by the file and the flag, naming each", "[study][fields]") {
    CHECK_THROWS_WITH(trikv::parse_study(kBase + "kv_heads = [0]\n", "s.toml"),
                      Catch::Contains("s.toml: kv_heads = 0 is out of range [1, 1024]"));
    CHECK_THROWS_WITH(from_flags({"--kv-heads", "0"}), Catch::Contains("--kv-heads: 0 is out of range [1, 1024]"));
    CHECK_THROWS_WITH(trikv::parse_study(kBase + "[data]\nradius = -1\n", "s.toml"),
                      Catch::Contains("s.toml: data.radius = -1 is not a finite number in [0, 1000000]"));
    CHECK_THROWS_WITH(from_flags({"--radius", "-1"}), Catch::Contains("--radius: -1 is not a finite number in [0, 1000000]"));
    CHECK_THROWS_WITH(from_flags({"--warmup", "1", "--warmup", "2"}), Catch::Contains("--warmup"));
    CHECK_THROWS_WITH(trikv::parse_study(kBase + "warmup = [1, 2]\n", "s.toml"),
                      Catch::Contains("warmup takes one value, not an array"));
}

TEST_CASE("one memory-limit grammar for the file and the flag", "[study][fields]") {
    for (const auto& [file_value, flag_value] : {std::pair{"\"25%\"", "25%"}, std::pair{"4096", "4096"}}) {
        const StudySpec by_file = trikv::parse_study(kBase + "mem_limit = " + file_value + "\n", "s.toml");
        CLI::App app;
        trikv::cli::PointOptions options;
        trikv::cli::add_point_options(&app, options);
        app.parse(std::vector<std::string>{flag_value, "--mem-limit"});
        StudySpec by_flag = trikv::parse_study(kBase, "base.toml");
        trikv::cli::apply_point_options(options, by_flag);
        CHECK(trikv::to_toml(by_file) == trikv::to_toml(by_flag));
        CHECK(by_file.mem_limit.text() == file_value);
    }
    CHECK_THROWS_WITH(trikv::parse_study(kBase + "mem_limit = \"0%\"\n", "s.toml"),
                      Catch::Contains("s.toml: mem_limit: 0% is not a byte count"));
    CHECK_THROWS_WITH(trikv::parse_mem_limit("101%", "--mem-limit"), Catch::Contains("--mem-limit: 101% is not a byte count"));
}

TEST_CASE("point keys built from the field table are those written before it", "[study][fields]") {
    // Keys from results.csv files the binary before the table wrote (every optional part of a key
    // present): those results must still resume.
    const trikv::StudyPoint grouped = trikv::point_for(
        "factor", {.n = 8, .d = 4, .heads = 2, .seed = 2, .warmup = 0, .repetitions = 1, .scale = 0.3, .kv_heads = 1,
                   .variant = trikv::ScoreVariant::rank1, .k2_bias = 0.1, .accuracy_positions = 3});
    CHECK(grouped.key() == "0eb967db85f8ad2b");
    StudySpec var = trikv::parse_study("caches = [\"factor\"]\nworkload = \"var\"\nschedule = [1, 2]\nd = [4]\nwarmup = 0\n"
                                       "repetitions = 1\n[data]\nkind = \"sparse\"\nnonzeros = [2]\nsupport = \"blocks\"\n",
                                       "var.toml");
    const std::vector<trikv::StudyPoint> points = trikv::expand_study(var);
    REQUIRE(points.size() == 1);
    CHECK(points[0].key() == "91a8f11ec90aa085");
}
