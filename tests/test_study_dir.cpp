// A study directory shared by several processes (studies/results/study_dir.hpp): concurrent writers
// never drop each other's rows nor record a point twice, a second run refuses naming the
// holder's pid, SIGINT records state "interrupted", stale temporaries go, and a damaged
// results.csv is reported by line and column.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "framework/error.hpp"
#include "framework/npy.hpp"
#include "studies/results/results.hpp"
#include "studies/results/study_dir.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

std::string key_of(std::size_t writer, std::size_t point) {
    char key[17];
    std::snprintf(key, sizeof key, "%08zx%08zx", writer, point);
    return key;
}

trikv::ResultRow row_of(std::size_t writer, std::size_t point) {
    trikv::ResultRow row;
    row.cache = "product";
    row.cache_type = "product";
    row.n = point;
    row.key = key_of(writer, point);
    return row;
}

// `writers` processes, the i-th starting after i × stagger_ms, each recording `points` points
// of its own and the same `shared` points as every other writer.
void run_writers(const fs::path& dir, std::size_t writers, std::size_t points, std::size_t shared, int stagger_ms) {
    std::vector<pid_t> children;
    for (std::size_t w = 0; w < writers; ++w) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(stagger_ms * int(w)));
            const trikv::ResultsFile results(dir);
            try {
                for (std::size_t p = 0; p < points; ++p) {
                    results.record({row_of(w + 1, p)});
                    if (p < shared) results.record({row_of(0, p)});
                }
            } catch (...) {
                ::_exit(1);
            }
            ::_exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
}

std::string slurp(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct Run {
    int status = -1;
    std::string err;
};

// Runs the CLI with `args` in the background (in `cwd` if given); its stderr goes to `log`.
pid_t start_cli(const std::vector<std::string>& args, const fs::path& log, const fs::path& cwd = {}) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::freopen(log.c_str(), "w", stderr);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
        std::vector<char*> argv{const_cast<char*>(TRIKV_CLI)};
        for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        ::execv(TRIKV_CLI, argv.data());
        ::_exit(127);
    }
    return pid;
}

int wait_status(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> small_study(const fs::path& out) {
    return {"study", "--out", out.string(), "--no-peaks", "--cache", "product", "--cache", "factor", "--n", "64",
            "--n", "128", "--n", "192", "--d", "16", "--repetitions", "3", "--threads", "1"};
}

}  // namespace

TEST_CASE("concurrent writers of one results.csv lose no row and record every point once", "[study][reliability]") {
    for (std::size_t writers : {2, 4})
        for (int stagger_ms : {0, 7}) {
            INFO(writers << " writers, staggered by " << stagger_ms << " ms");
            const fs::path dir = trikv::test::fresh_dir("study-writers");
            constexpr std::size_t points = 12, shared = 4;
            run_writers(dir, writers, points, shared, stagger_ms);
            const std::vector<trikv::ResultRow> rows = trikv::read_results_csv(dir / "results.csv");
            std::set<std::string> keys;
            for (const trikv::ResultRow& row : rows) keys.insert(row.key);
            CHECK(keys.size() == rows.size());  // no point twice (the reader refuses repeats anyway)
            CHECK(rows.size() == writers * points + shared);
            for (std::size_t w = 1; w <= writers; ++w)
                for (std::size_t p = 0; p < points; ++p) CHECK(keys.count(key_of(w, p)) == 1);
            fs::remove_all(dir);
        }
}

TEST_CASE("a failed or skipped point's row is replaced, an ok one is kept", "[study][reliability]") {
    const fs::path dir = trikv::test::fresh_dir("study-replace");
    const trikv::ResultsFile results(dir);
    trikv::ResultRow failed = row_of(1, 1);
    failed.status = trikv::PointStatus::failed;
    failed.reason = "out of memory";
    CHECK(results.record({failed}) == trikv::ResultsFile::Recorded::appended);
    trikv::ResultRow ok = row_of(1, 1);
    ok.step_ms_median = 2;
    CHECK(results.record({ok}) == trikv::ResultsFile::Recorded::replaced);
    trikv::ResultRow again = ok;
    again.step_ms_median = 3;
    CHECK(results.record({again}) == trikv::ResultsFile::Recorded::already_recorded);
    const auto rows = trikv::read_results_csv(dir / "results.csv");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].ok());
    CHECK(rows[0].step_ms_median == 2);
    fs::remove_all(dir);
}

TEST_CASE("a second run on the same directory refuses naming the holder's pid, and --wait queues", "[study][reliability]") {
    const fs::path dir = trikv::test::fresh_dir("study-second");
    const trikv::test::ScratchDir logs("study-second-logs");  // beside dir, which must hold only the study's files
    const pid_t first = start_cli(small_study(dir), logs.path() / "first.log");
    // The first run holds the lock as soon as .lock holds its pid.
    for (int i = 0; i < 2000 && slurp(dir / ".lock") != std::to_string(first) + "\n"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const fs::path log2 = logs.path() / "second.log";
    const int refused = wait_status(start_cli(small_study(dir), log2));
    const int status = wait_status(first);
    CHECK(status == 0);
    // Unless the first run finished before the second started, the second refused.
    if (refused != 0) {
        CHECK(refused == 2);
        CHECK_THAT(slurp(log2), Contains("is in use by another trikv process (pid " + std::to_string(first) + ","));
    }

    std::vector<std::string> waiting = small_study(dir);
    waiting.push_back("--wait");
    const fs::path again = trikv::test::fresh_dir("study-wait");
    waiting[2] = again.string();
    std::vector<std::string> plain = small_study(again);
    const pid_t a = start_cli(plain, logs.path() / "wait-a.log");
    for (int i = 0; i < 2000 && slurp(again / ".lock") != std::to_string(a) + "\n"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const pid_t b = start_cli(waiting, logs.path() / "wait-b.log");
    CHECK(wait_status(a) == 0);
    CHECK(wait_status(b) == 0);
    const auto rows = trikv::read_results_csv(again / "results.csv");
    CHECK(rows.size() == 6);  // each point once, whichever run measured it
    fs::remove_all(dir);
    fs::remove_all(again);
}

TEST_CASE("SIGINT records state interrupted and exits promptly, and the next run removes stale temporaries",
          "[study][reliability]") {
    const fs::path dir = trikv::test::fresh_dir("study-interrupt");
    const trikv::test::ScratchDir logs("study-interrupt-logs");  // beside dir: it must hold no stray files
    std::vector<std::string> args = small_study(dir);
    args.insert(args.end(), {"--n", "1024", "--n", "2048"});
    const pid_t pid = start_cli(args, logs.path() / "interrupted.log");
    for (int i = 0; i < 4000 && slurp(dir / "results.json").find("\"running\"") == std::string::npos; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ::kill(pid, SIGINT);
    const auto sent = std::chrono::steady_clock::now();
    const int status = wait_status(pid);
    CHECK(status == 128 + SIGINT);
    CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds(5));
    CHECK_THAT(slurp(dir / "results.json"), Contains("\"state\": \"interrupted\""));

    // Temporaries a killed writer left behind (results.csv's, results.json's, a figure's).
    fs::create_directories(dir / "figures");
    for (const fs::path& stale : {dir / "results.csv.tmp.4194303.0", dir / "results.json.tmp.4194303.1",
                                  dir / "figures" / ".pareto.png.tmp.4194303.2"})
        std::ofstream(stale) << "torn";
    const int rerun = wait_status(start_cli(small_study(dir), logs.path() / "rerun.log"));
    CHECK(rerun == 0);
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
    CHECK_THAT(slurp(dir / "results.json"), Contains("\"state\": \"complete\""));
    fs::remove_all(dir);
}

TEST_CASE("a damaged results.csv is reported by line and column, never read as other points", "[study][reliability]") {
    const fs::path dir = trikv::test::fresh_dir("study-damaged");
    trikv::ResultRow a = row_of(1, 1), b = row_of(1, 2);
    const std::string header = trikv::csv_header(), line_a = trikv::to_csv_line(a), line_b = trikv::to_csv_line(b);
    auto error_of = [&](const std::string& text) {
        std::ofstream(dir / "results.csv", std::ios::binary | std::ios::trunc) << text;
        try {
            trikv::read_results_csv(dir / "results.csv");
        } catch (const trikv::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    // CRLF line ends (a file saved on Windows) read as the same rows.
    CHECK(error_of(header + "\r\n" + line_a + "\r\n" + line_b + "\r\n") == "no error");
    CHECK(trikv::read_results_csv(dir / "results.csv").at(1).key == b.key);
    // A row cut short inside its key (the last column).
    const std::string cut = line_b.substr(0, line_b.size() - 5);
    CHECK_THAT(error_of(header + "\n" + line_a + "\n" + cut + "\n"),
               Contains("line 3, column " + std::to_string(cut.rfind(',') + 2) + ": key '" + b.key.substr(0, 11) + "'"));
    // A row cut short earlier: too few fields.
    CHECK_THAT(error_of(header + "\n" + line_a.substr(0, 20) + "\n"), Contains("line 2, column 21:") && Contains("cut short"));
    CHECK_THAT(error_of(""), Contains("line 1, column 1: the file is empty"));
    CHECK_THAT(error_of(header + "\n" + line_a + "\n" + line_a + "\n"), Contains("line 3") && Contains("already on line 2"));
    CHECK_THAT(error_of("cache,bogus\n"), Contains("line 1, column 7: 'bogus' is not a results column"));
    fs::remove_all(dir / "results.csv");
    fs::create_directories(dir / "results.csv");
    CHECK_THROWS_WITH(trikv::read_results_csv(dir / "results.csv"), Contains("results.csv: is a directory"));
    fs::remove_all(dir);
}

TEST_CASE("a study with a failed point finishes the others and exits 3", "[study][reliability]") {
    const fs::path dir = trikv::test::fresh_dir("study-failed");
    // One head of data: the point with heads = 2 fails when it loads it, the other runs.
    for (const char* name : {"q", "k1", "k2", "v1", "v2"}) {
        xt::xarray<double> x = xt::ones<double>({16, 4});
        trikv::write_npy(dir / (std::string(name) + ".npy"), trikv::make_npy(x));
    }
    std::ofstream(dir / "s.toml") << "caches = [\"factor\"]\nn = [8]\nd = [4]\nheads = [2, 1]\nwarmup = 0\n"
                                  << "repetitions = 1\nthreads = 1\nmeasure_peaks = false\nfigures = []\n"
                                  << "out = \"" << (dir / "out").string() << "\"\n[data]\nkind = \"npy\"\ndir = \""
                                  << dir.string() << "\"\n";
    const fs::path log = dir / "log.txt";
    CHECK(wait_status(start_cli({"study", (dir / "s.toml").string()}, log)) == 3);
    CHECK_THAT(slurp(log), Contains("1 point(s) failed"));
    const auto rows = trikv::read_results_csv(dir / "out" / "results.csv");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].status == trikv::PointStatus::failed);
    CHECK(rows[1].ok());
    fs::remove_all(dir);
}

TEST_CASE("trikv study without a file outside the repository names the file it looked for", "[study][reliability]") {
    const fs::path dir = trikv::test::fresh_dir("study-nofile");
    const fs::path log = dir.parent_path() / (dir.filename().string() + ".log");
    CHECK(wait_status(start_cli({"study"}, log, dir)) == 2);
    CHECK_THAT(slurp(log), Contains((fs::canonical(dir) / "studies" / "default.toml").string() + " does not exist"));
    CHECK(fs::is_empty(dir));  // nothing started here
    fs::remove_all(dir);
    fs::remove(log);
}

TEST_CASE("trikv study refuses an empty --shard and a trace directory that is a symlink loop in one line",
          "[study][reliability]") {
    const fs::path dir = trikv::test::fresh_dir("study-cli-refusals");
    std::vector<std::string> args = small_study(dir / "out");
    args.insert(args.end(), {"--shard", ""});  // read as "no --shard", it ran the whole study
    CHECK(wait_status(start_cli(args, dir / "shard.log")) == 2);
    std::ifstream shard_log(dir / "shard.log");
    const std::string shard_err((std::istreambuf_iterator<char>(shard_log)), std::istreambuf_iterator<char>());
    CHECK_THAT(shard_err, Contains("--shard: an empty shard; expected i/N"));
    CHECK(!fs::exists(dir / "out" / "results.csv"));

    fs::create_directory_symlink(dir / "loop", dir / "loop");
    std::ofstream(dir / "trace.toml") << "name = \"loop\"\ncaches = [\"product\"]\nn = [8]\nd = [4]\n[data]\n"
                                      << "kind = \"trace\"\nlayer = 0\nhead = 0\ndir = \"" << (dir / "loop").string() << "\"\n";
    CHECK(wait_status(start_cli({"study", (dir / "trace.toml").string(), "--out", (dir / "out").string(), "--no-peaks"},
                                dir / "trace.log")) == 2);
    std::ifstream trace_log(dir / "trace.log");
    const std::string trace_err((std::istreambuf_iterator<char>(trace_log)), std::istreambuf_iterator<char>());
    CHECK_THAT(trace_err, Contains("loop/layer0/head0/k1.npy") && Contains("symbolic links") && !Contains("internal error"));
    CHECK(std::count(trace_err.begin(), trace_err.end(), '\n') == 1);
    fs::remove_all(dir);
}
