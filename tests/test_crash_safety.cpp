// Crash safety: a study killed with SIGKILL at any moment keeps every finished point, and a
// rerun completes it with each point exactly once (each point is one whole append).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "studies/results/results.hpp"

namespace fs = std::filesystem;

namespace {

// Starts `trikv study` on a small sweep; returns the child's pid.
pid_t start_study(const fs::path& out) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const std::string dir = out.string();
        ::freopen("/dev/null", "w", stderr);
        ::execl(TRIKV_CLI, TRIKV_CLI, "study", "--out", dir.c_str(), "--no-peaks", "--cache", "product", "--cache",
                "factor", "--cache", "factor:strategy=recompute", "--n", "64", "--n", "128", "--n", "256", "--n", "384",
                "--d", "16", "--repetitions", "3", "--threads", "1", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return pid;
}

int wait_for(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

}  // namespace

TEST_CASE("a study killed with SIGKILL at several moments resumes with every point exactly once", "[study][reliability]") {
    const fs::path out = fs::temp_directory_path() / ("trikv-crash-" + std::to_string(::getpid()));
    fs::remove_all(out);
    constexpr std::size_t points = 3 * 4;

    std::size_t kills = 0;
    for (int delay_ms : {30, 150, 300, 600, 900}) {
        const pid_t pid = start_study(out);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ::kill(pid, SIGKILL);
        const int status = wait_for(pid);
        kills += WIFSIGNALED(status);
        if (fs::exists(out / "results.csv")) {
            const auto rows = trikv::read_results_csv(out / "results.csv");  // parses: never torn
            std::set<std::string> keys;
            for (const auto& row : rows) keys.insert(row.key);
            CHECK(keys.size() == rows.size());
            CHECK(rows.size() <= points);
        }
    }
    CHECK(kills > 0);  // at least one kill landed mid-study (the sweep takes longer than 30 ms)

    const int status = wait_for(start_study(out));
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    const auto rows = trikv::read_results_csv(out / "results.csv");
    std::set<std::string> keys;
    for (const auto& row : rows) {
        keys.insert(row.key);
        CHECK(row.ok());
    }
    CHECK(rows.size() == points);
    CHECK(keys.size() == points);
    fs::remove_all(out);
}
