// Sharded studies end to end in-process (studies/cluster/shard_run.hpp, shard_merge.hpp,
// study_status.hpp): the merged shards equal the unsharded study; merging twice or with a
// shard missing is safe and says what is missing; a killed shard resumes its own points only;
// rows of different machines get fronts and figures per machine.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "studies/results/results.hpp"
#include "studies/results/study_dir.hpp"
#include "studies/cluster/shard_merge.hpp"
#include "studies/cluster/shard_run.hpp"
#include "studies/cluster/shard_state.hpp"
#include "studies/run/study_runner.hpp"
#include "studies/cluster/study_status.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

const trikv::MachinePeaks kPeaks{100, 10, 1};

trikv::StudySpec small_study(const fs::path& out) {
    trikv::StudySpec spec;
    spec.name = "sharded";
    spec.caches = {"factor", "product", "matrix"};
    spec.n = {8, 16};
    spec.d = {4};
    spec.warmup = 0;
    spec.repetitions = 1;
    spec.threads = 1;
    spec.figures = {};
    spec.out = out.string();
    return spec;
}

// A row's configuration and outcome (no timings, which differ run to run).
std::string configuration(const trikv::ResultRow& row) {
    return row.key + " " + row.cache + " " + std::to_string(row.n) + " " + std::to_string(row.d) + " " + trikv::name_of(row.status);
}

std::vector<std::string> configurations(const fs::path& csv) {
    std::vector<std::string> out;
    for (const trikv::ResultRow& row : trikv::read_results_csv(csv)) out.push_back(configuration(row));
    return out;
}

// The top-level keys of a results.json, in order (each at two spaces' indent: results_json's layout).
std::vector<std::string> top_level_keys(const fs::path& json) {
    std::ifstream in(json);
    std::vector<std::string> keys;
    for (std::string line; std::getline(in, line);)
        if (line.rfind("  \"", 0) == 0) keys.push_back(line.substr(3, line.find('"', 3) - 3));
    return keys;
}

}  // namespace

TEST_CASE("merged and unsharded results.json have the same schema and provenance", "[shards][study]") {
    const fs::path dir = trikv::test::fresh_dir("shard-schema");
    trikv::run_study(small_study(dir / "whole"), {.peaks = kPeaks});
    const trikv::StudySpec spec = small_study(dir / "sharded");
    for (std::size_t i = 0; i < 2; ++i) trikv::run_shard(spec, {i, 2}, kPeaks);
    trikv::merge_shards(spec);
    const std::vector<std::string> whole = top_level_keys(dir / "whole" / "results.json");
    CHECK(whole.size() >= 15);
    CHECK(top_level_keys(dir / "sharded" / "results.json") == whole);
    for (const char* key : {"cpu", "compiler", "git_commit", "date", "build_flags", "provenance", "shards"})
        CHECK(std::find(whole.begin(), whole.end(), key) != whole.end());
    // Each shard recorded its machine's build; the merge lists it under provenance.
    std::ifstream merged(dir / "sharded" / "results.json");
    const std::string text((std::istreambuf_iterator<char>(merged)), {});
    CHECK_THAT(text, Contains("\"provenance\": [\n    {\"host\": "));
    CHECK_THAT(text, Contains("\"compiler\": \"g++ "));
    fs::remove_all(dir);
}

TEST_CASE("merged shards equal the unsharded study, and merging twice changes nothing", "[shards][study]") {
    const fs::path dir = trikv::test::fresh_dir("shard-merge");
    trikv::run_study(small_study(dir / "whole"), {.peaks = kPeaks});
    const trikv::StudySpec spec = small_study(dir / "sharded");
    std::size_t measured = 0;
    for (std::size_t i = 0; i < 3; ++i) measured += trikv::run_shard(spec, {i, 3}, kPeaks).measured;
    CHECK(measured == 6);

    const trikv::MergeReport report = trikv::merge_shards(spec);
    CHECK(report.complete());
    CHECK(report.points == 6);
    CHECK(report.notes.empty());
    const auto whole = configurations(dir / "whole" / "results.csv");
    CHECK(configurations(dir / "sharded" / "results.csv") == whole);  // same points, keys, order, once each
    for (const trikv::ResultRow& row : trikv::read_results_csv(dir / "sharded" / "results.csv"))
        CHECK(row.host == trikv::read_results_csv(dir / "whole" / "results.csv").front().host);

    trikv::merge_shards(spec);
    CHECK(configurations(dir / "sharded" / "results.csv") == whole);
    std::ifstream json(dir / "sharded" / "results.json");
    const std::string text((std::istreambuf_iterator<char>(json)), {});
    CHECK_THAT(text, Contains("\"state\": \"complete\""));
    CHECK_THAT(text, Contains("\"shard\": \"2/3\", \"state\": \"done\""));
    CHECK(fs::exists(dir / "sharded" / "pareto.csv"));
    fs::remove_all(dir);
}

TEST_CASE("a merge with a shard missing says which, and the killed shard resumes its own points", "[shards][study]") {
    const fs::path dir = trikv::test::fresh_dir("shard-missing");
    const trikv::StudySpec spec = small_study(dir);
    trikv::run_shard(spec, {0, 2}, kPeaks);
    trikv::run_shard(spec, {1, 2}, kPeaks);

    // Shard 1 "killed" after its first point: its file holds one row, its state says running.
    const fs::path csv = trikv::shards_dir(dir) / "1-of-2.csv";
    const auto rows = trikv::read_results_csv(csv);
    REQUIRE(rows.size() >= 2);
    trikv::write_results_csv(csv, {rows.front()});
    auto states = trikv::read_shard_states(dir);
    REQUIRE(states.size() == 2);
    states[1].state = trikv::ShardPhase::running;
    states[1].end.clear();
    trikv::write_shard_state(dir, states[1]);

    const trikv::MergeReport partial = trikv::merge_shards(spec);
    CHECK_FALSE(partial.complete());
    CHECK(partial.present == 6 - (rows.size() - 1));
    REQUIRE(partial.notes.size() == 2);
    CHECK_THAT(partial.notes[1], Contains("shard 1/2: " + std::to_string(rows.size() - 1) + " of " +
                                          std::to_string(rows.size()) + " points missing (running on"));
    std::ostringstream status;
    const trikv::StatusCounts counts = trikv::print_study_status(spec, status);
    CHECK(counts.done == 1);
    CHECK(counts.running == 1);  // the state names this (live) process
    CHECK_THAT(status.str(), Contains("shard 1/2: running on"));

    // Its process gone (a child that has exited and been reaped): interrupted, counted as failed.
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    states[1].pid = child;
    trikv::write_shard_state(dir, states[1]);
    std::ostringstream after_kill;
    CHECK(trikv::print_study_status(spec, after_kill).failed == 1);
    CHECK_THAT(after_kill.str(), Contains("shard 1/2: interrupted on"));
    CHECK_THAT(trikv::merge_shards(spec).notes.back(), Contains("(interrupted on"));

    const trikv::StudySummary rerun = trikv::run_shard(spec, {1, 2}, kPeaks);
    CHECK(rerun.resumed == 1);
    CHECK(rerun.measured == rows.size() - 1);
    const trikv::MergeReport full = trikv::merge_shards(spec);
    CHECK(full.complete());
    std::set<std::string> keys;
    for (const trikv::ResultRow& row : trikv::read_results_csv(dir / "results.csv")) CHECK(keys.insert(row.key).second);
    CHECK(keys.size() == 6);
    fs::remove_all(dir);
}

TEST_CASE("status lists shards not started, and rows of two machines get fronts and figures per machine", "[shards][study]") {
    const fs::path dir = trikv::test::fresh_dir("shard-hosts");
    trikv::StudySpec spec = small_study(dir);
    spec.figures = {"pareto"};
    trikv::run_shard(spec, {0, 3}, kPeaks);
    trikv::run_shard(spec, {2, 3}, kPeaks);
    std::ostringstream status;
    const trikv::StatusCounts counts = trikv::print_study_status(spec, status);
    CHECK(counts.done == 2);
    CHECK(counts.not_started == 1);
    CHECK_THAT(status.str(), Contains("shard 1/3: not started"));
    CHECK_THAT(trikv::merge_shards(spec).notes.back(), Contains("shard 1/3: ") && Contains("(not started)"));

    // Shard 2's rows as if measured elsewhere.
    const fs::path csv = trikv::shards_dir(dir) / "2-of-3.csv";
    auto rows = trikv::read_results_csv(csv);
    for (auto& row : rows) row.host = "other-host";
    trikv::write_results_csv(csv, rows);
    fs::remove(dir / "results.csv");
    trikv::run_shard(spec, {1, 3}, kPeaks);
    const trikv::MergeReport report = trikv::merge_shards(spec);
    CHECK(report.complete());
    REQUIRE(report.hosts.size() == 2);
    CHECK(std::count(report.hosts.begin(), report.hosts.end(), "other-host") == 1);
    REQUIRE(!report.notes.empty());
    CHECK_THAT(report.notes.back(), Contains("2 machines") && Contains("no front joins points of different machines"));
    CHECK(fs::exists(dir / "figures" / "other-host" / "pareto.csv"));
    for (const std::string& host : report.hosts) CHECK(fs::exists(dir / "figures" / host / "pareto.csv"));
    std::ifstream pareto(dir / "pareto.csv");
    const std::string fronts((std::istreambuf_iterator<char>(pareto)), {});
    for (const std::string& host : report.hosts) CHECK_THAT(fronts, Contains("," + host + ",ok,"));  // each host's own front
    fs::remove_all(dir);
}

TEST_CASE("results.csv written before the host column still reads", "[shards][study]") {
    const fs::path dir = trikv::test::fresh_dir("shard-old-csv");
    trikv::ResultRow row;
    row.cache = "product";
    row.key = "0123456789abcdef";
    row.host = "h";
    trikv::write_results_csv(dir / "r.csv", {row});
    std::ifstream in(dir / "r.csv");
    std::string header, line;
    std::getline(in, header);
    std::getline(in, line);
    in.close();
    // The same file without the host column, as written before it existed.
    const auto split = [](const std::string& text) {
        std::vector<std::string> fields(1);
        for (char c : text) {
            if (c == ',') fields.emplace_back();
            else fields.back().push_back(c);
        }
        return fields;
    };
    const auto without_host = [&](const std::string& text) {
        std::vector<std::string> fields = split(text);
        const std::vector<std::string> names = split(header);
        const auto at = std::find(names.begin(), names.end(), "host") - names.begin();
        REQUIRE(at < std::ptrdiff_t(fields.size()));
        fields.erase(fields.begin() + at);
        std::string joined;
        for (const std::string& field : fields) joined += (joined.empty() ? "" : ",") + field;
        return joined;
    };
    std::ofstream(dir / "old.csv") << without_host(header) << "\n" << without_host(line) << "\n";
    const auto back = trikv::read_results_csv(dir / "old.csv");
    REQUIRE(back.size() == 1);
    CHECK(back[0].key == row.key);
    CHECK(back[0].host.empty());
    fs::remove_all(dir);
}

TEST_CASE("a merge refuses while an unsharded run holds the study directory", "[shards][study]") {
    // The run lock is what an unsharded `trikv study` holds: a merge must not rewrite results.csv,
    // pareto.csv and results.json beside it (seen: rows it appended meanwhile were lost).
    const fs::path dir = trikv::test::fresh_dir("shard-busy");
    const trikv::StudySpec spec = small_study(dir);
    trikv::run_shard(spec, {0, 1}, kPeaks);
    {
        const trikv::FileLock running(dir / ".lock", trikv::FileLock::Busy::refuse);
        CHECK_THROWS_WITH(trikv::merge_shards(spec), Contains("is in use by another trikv process (pid"));
        CHECK_FALSE(fs::exists(dir / "results.csv"));
    }
    CHECK(trikv::merge_shards(spec).complete());
    fs::remove_all(dir);
}
