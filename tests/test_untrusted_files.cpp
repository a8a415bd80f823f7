// Files and text trikv reads that someone else may have written or replaced: TOML nested past
// any real file, a FIFO where a study file, a shard state file, results.csv or a lock file
// should be (each would block forever; ctest's time limit fails a hang), a byte order mark,
// paths sbatch would rewrite, and cache types whose text carries terminal escape sequences.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "studies/results/results.hpp"
#include "studies/cluster/shard_state.hpp"
#include "studies/cli/slurm.hpp"
#include "studies/results/study_dir.hpp"
#include "studies/spec/study_spec.hpp"
#include "studies/spec/toml_depth.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::binary) << text;
}

void make_fifo(const fs::path& file) { REQUIRE(::mkfifo(file.c_str(), 0600) == 0); }

// "[a.a.a…]" with `depth` keys.
std::string deep_header(std::size_t depth) {
    std::string header = "[a";
    for (std::size_t i = 1; i < depth; ++i) header += ".a";
    return header + "]\n";
}

constexpr const char* kStudy = "name = \"deep\"\ncaches = [\"factor\"]\nn = [8]\nd = [4]\n";

}  // namespace

TEST_CASE("TOML nested past kMaxTomlDepth is refused before parsing, study files and shard state files alike",
          "[untrusted]") {
    CHECK_THROWS_WITH(trikv::parse_study(std::string(kStudy) + deep_header(50000), "deep.toml"),
                      Contains("deep.toml:5: TOML nested deeper than"));
    CHECK_THROWS_WITH(trikv::parse_study(std::string(kStudy) + "x = " + std::string(1000, '[') + "1" +
                                             std::string(1000, ']') + "\n", "arrays.toml"),
                      Contains("arrays.toml:5: TOML nested deeper than"));
    // Not deep: numbers' dots, dots in strings and comments, many values on one line.
    std::string scales = "scale = [";
    for (int i = 0; i < 200; ++i) scales += (i ? ", " : "") + std::to_string(i + 1) + ".5";
    const std::string ok = std::string(kStudy) + "out = \"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g\"\n" +
                           "# a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g\n" + scales + "]\n";
    CHECK_NOTHROW(trikv::require_toml_depth(ok, "ok.toml"));
    CHECK(trikv::parse_study(ok, "ok.toml").scales.size() == 200);

    const trikv::test::ScratchDir dir("toml-depth");
    fs::create_directories(dir.path() / "shards");
    write_text(dir.path() / "shards" / "0-of-2.toml", "shard = \"0/2\"\n" + deep_header(50000));
    CHECK_THROWS_WITH(trikv::read_shard_states(dir.path()), Contains("0-of-2.toml:2: TOML nested deeper than"));
}

TEST_CASE("a FIFO in place of a study file, shard state, results.csv or lock file is refused at once", "[untrusted]") {
    const trikv::test::ScratchDir dir("fifo");
    make_fifo(dir.path() / "study.toml");
    CHECK_THROWS_WITH(trikv::load_study(dir.path() / "study.toml"), Contains("study.toml: is a FIFO"));
    fs::create_directories(dir.path() / "shards");
    make_fifo(dir.path() / "shards" / "0-of-2.toml");
    CHECK_THROWS_WITH(trikv::read_shard_states(dir.path()), Contains("0-of-2.toml: is a FIFO"));
    make_fifo(dir.path() / "results.csv");
    CHECK_THROWS_WITH(trikv::read_results_csv(dir.path() / "results.csv"), Contains("results.csv: is a FIFO"));
    CHECK_THROWS_WITH(trikv::ResultsFile(dir.path()).read(), Contains("results.csv: is a FIFO"));
    make_fifo(dir.path() / ".lock");
    CHECK_THROWS_WITH(trikv::FileLock(dir.path() / ".lock", trikv::FileLock::Busy::refuse),
                      Contains(".lock: the lock file is not a regular file"));
}

TEST_CASE("a results.csv starting with a byte order mark is refused naming it", "[untrusted]") {
    const trikv::test::ScratchDir dir("bom");
    write_text(dir.path() / "results.csv", "\xef\xbb\xbf" + trikv::csv_header() + "\n");
    CHECK_THROWS_WITH(trikv::read_results_csv(dir.path() / "results.csv"),
                      Contains("line 1, column 1: the file starts with a UTF-8 byte order mark (bytes EF BB BF)"));
}

TEST_CASE("trikv study --slurm refuses an out path sbatch would rewrite, writing nothing", "[untrusted]") {
    const trikv::test::ScratchDir dir("slurm");
    trikv::SlurmOptions options;
    options.dry_run = true;
    for (const std::string name : {"log%j", "it's", "a\"b", "back\\slash", "tab\there"}) {
        trikv::StudySpec spec = trikv::parse_study(kStudy, "slurm.toml");
        spec.out = (dir.path() / name).string();
        CHECK_THROWS_WITH(trikv::submit_study_to_slurm(spec, options, "/bin/true"),
                          Contains("cannot go into an sbatch script's #SBATCH lines"));
        CHECK(!fs::exists(dir.path() / name));
    }
    trikv::StudySpec spec = trikv::parse_study(kStudy, "slurm.toml");
    spec.out = (dir.path() / "plain").string();
    CHECK(trikv::submit_study_to_slurm(spec, options, "/bin/true").array_script.find("#SBATCH --output=") !=
          std::string::npos);
}

TEST_CASE("cache types whose name or text holds control characters are refused, the message escaped", "[untrusted]") {
    const auto type = [](const std::string& name, const std::string& description) {
        trikv::CacheType t;
        t.name = name;
        t.description = description;
        t.make = [](const trikv::CacheConfig&, const trikv::CacheShape&) -> std::unique_ptr<trikv::Cache> { return nullptr; };
        return t;
    };
    const auto message = [&](const trikv::CacheType& t) {
        try {
            trikv::register_cache(t);
        } catch (const trikv::Error& e) {
            return std::string(e.what());
        }
        return std::string("registered");
    };
    const std::string escape_name = message(type("evil\x1b[2J", "fine"));
    CHECK_THAT(escape_name, Contains("invalid cache name 'evil\\x1b[2J'"));
    CHECK(escape_name.find('\x1b') == std::string::npos);
    CHECK_THAT(message(type("quote'name", "fine")), Contains("invalid cache name 'quote'name'"));
    const std::string escape_text = message(type("untrusted-text", "line\nbreak \x1b]0;title\x07"));
    CHECK_THAT(escape_text, Contains("description 'line\\x0abreak \\x1b]0;title\\x07' holds control characters"));
    trikv::CacheType with_param = type("untrusted-param", "fine");
    with_param.params.push_back({.name = "k", .default_value = "1", .description = "bell\x07", .choices = {}, .min = 0, .max = 10, .integer = true});
    CHECK_THAT(message(with_param), Contains("parameter 'k': description 'bell\\x07' holds control characters"));
    for (const std::string name : {"untrusted-text", "untrusted-param"})
        CHECK_THROWS_WITH(trikv::parse_cache_spec(name), Contains("unknown cache"));
}
