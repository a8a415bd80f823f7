#pragma once
// Runs a study into its output directory (docs/studies.md, docs/reliability.md):
//   results.csv  one row per point (var: per scale, then the point's own row), each point one
//                fsync'ed append under the directory's results lock (studies/results/study_dir.hpp),
//                so several processes can fill one directory; a rerun skips every point
//                already measured and retries failed and skipped ones
//   results.json metadata: machine, build, library versions, git commit, date, peaks, study,
//                state (running, complete, interrupted), rows no longer in the study
//   pareto.csv   the fronts (studies/results/pareto.hpp) of the study's own points
//   figures/     the figures (studies/figures/figures.hpp) of the study's own points
// The last three are written by finish_study (studies/run/finish.hpp), as a merge writes them.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "studies/measure/machine_peaks.hpp"
#include "studies/spec/study_spec.hpp"

namespace trikv {

struct StudyOptions {
    // The machine's peaks if already known (tests); measured at the start otherwise.
    std::optional<MachinePeaks> peaks{};
    // Which points this process measures, by their index in expand_study's order (all when
    // empty). Points it does not measure are left to other processes (shards).
    std::function<bool(std::size_t index, const StudyPoint& point)> measures{};
    // false: write only results.csv (a shard); the merge finishes the study (finish_study).
    bool write_outputs = true;
    // Where this process records its rows: empty for OUT/results.csv; a shard keeps a file of
    // its own (studies/cluster/shard_run.hpp), combined by the merge.
    std::filesystem::path results_csv{};
    // The run lock, a file in the output directory: a second process asking for the same
    // lock refuses (naming the holder's pid), or waits when `wait_for_lock`. Shards of one
    // study take one lock each, so they run side by side but each shard only once.
    std::string lock_name = ".lock";
    bool wait_for_lock = false;
    // The study's points when the caller has expanded it already (a shard, to pick its share):
    // expanding again would read and hash every npy or trace file a second time.
    std::optional<std::vector<StudyPoint>> points{};
    // SIGINT and SIGTERM record state "interrupted" in results.json either way. false (the
    // CLI): the process then ends at once, status 128 + signal. true (in process, Python): a
    // SIGINT lets the point being measured finish and its row be recorded, then run_study
    // throws StudyInterrupted; a second SIGINT, or SIGTERM, still ends the process at once.
    bool interrupt_throws = false;
};

// Thrown by run_study after a SIGINT when StudyOptions::interrupt_throws: results.json already
// says "interrupted". Not a trikv::Error (it is no bad input): Python raises KeyboardInterrupt.
class StudyInterrupted : public std::exception {
public:
    const char* what() const noexcept override { return "study interrupted (SIGINT); results.json records it"; }
};

struct StudySummary {
    std::size_t points = 0;    // in the study
    std::size_t measured = 0;  // measured ok by this run
    std::size_t resumed = 0;   // already measured before this run
    std::size_t skipped = 0, failed = 0;  // by this run
    std::size_t elsewhere = 0;  // left to other processes (StudyOptions::measures)
    std::size_t stale_rows = 0;  // rows in results.csv of points no longer in the study
    std::string out_dir;
};

// Status of the process when a point failed: the others are finished first.
inline constexpr int kExitPointFailed = 3;

StudySummary run_study(const StudySpec& spec, const StudyOptions& options = {});

}  // namespace trikv
