#pragma once
// Runs a study end to end into its output directory:
//   results.csv  one row per point, rewritten atomically after each point (a kill loses at
//                most the point in flight; a rerun skips every key already present)
//   results.json metadata: machine, build, library versions, git commit, date, peaks, study
//   pareto.csv   the fronts (studies/pareto.hpp)
//   figures/     the figures (studies/figures.hpp)
#include <functional>
#include <string>

#include <optional>

#include "studies/machine_peaks.hpp"
#include "studies/study_spec.hpp"

namespace trikv {

struct StudySummary {
    std::size_t points = 0, measured = 0, resumed = 0, skipped = 0, failed = 0;
    std::string out_dir;
};

// `peaks`: the machine's peaks if already known (tests); measured at the start otherwise.
StudySummary run_study(const StudySpec& spec, std::optional<MachinePeaks> peaks = std::nullopt);

}  // namespace trikv
