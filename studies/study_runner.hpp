#pragma once
// Runs a study end to end into its output directory:
//   results.csv  one row per point, rewritten atomically after each point (a kill loses at
//                most the point in flight; a rerun skips every key already present)
//   results.json metadata: machine, build, library versions, git commit, date, peaks, study
//   pareto.csv   the fronts (studies/pareto.hpp)
//   figures/     the figures (studies/figures.hpp)
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "studies/machine_peaks.hpp"
#include "studies/study_spec.hpp"

namespace trikv {

struct StudySummary {
    std::size_t points = 0, measured = 0, resumed = 0, skipped = 0, failed = 0;
    std::string out_dir;
};

// The part of a study one run measures and where its rows go; the default is the whole study
// into OUT/results.csv. A shard (studies/shard_run.hpp) measures its own points into a file of
// its own and leaves the fronts, figures and results.json to the merge.
struct StudyScope {
    std::function<bool(const StudyPoint&)> includes;  // empty: every point
    std::filesystem::path results_csv;                // empty: OUT/results.csv
    bool final_outputs = true;                        // results.json, pareto.csv, figures/
};

// `peaks`: the machine's peaks if already known (tests); measured at the start otherwise.
StudySummary run_study(const StudySpec& spec, std::optional<MachinePeaks> peaks = std::nullopt,
                       const StudyScope& scope = {});

}  // namespace trikv
