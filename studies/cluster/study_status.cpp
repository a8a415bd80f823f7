#include "studies/cluster/study_status.hpp"

#include <set>

#include "framework/error.hpp"
#include "studies/results/results.hpp"
#include "studies/cluster/shard_state.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

// Rows of the shard's points written so far (a var point's scale rows not counted).
std::size_t points_written(const fs::path& out, const ShardState& state) {
    const fs::path csv = shards_dir(out) / (state.shard.file_stem() + ".csv");
    std::error_code error;
    if (!fs::exists(csv, error)) return 0;
    std::size_t count = 0;
    for (const ResultRow& row : read_results_csv(csv)) count += row.key.find('/') == std::string::npos;
    return count;
}

}  // namespace

StatusCounts print_study_status(const StudySpec& spec, std::ostream& out) {
    require(!spec.out.empty(), "study: --status needs an output directory (out)");
    const std::vector<ShardState> states = read_shard_states(spec.out);
    StatusCounts counts;
    if (states.empty()) {
        out << "no shards in " << without_controls(shards_dir(spec.out).string()) << "\n";
        return counts;
    }
    std::set<std::size_t> totals;
    for (const ShardState& s : states) totals.insert(s.shard.count);
    for (const std::size_t total : totals) {
        std::set<std::size_t> seen;
        for (const ShardState& s : states) {
            if (s.shard.count != total) continue;
            seen.insert(s.shard.index);
            const std::string progress = std::to_string(points_written(spec.out, s)) + " of " + std::to_string(s.points) + " points";
            out << "shard " << s.shard.label() << ": ";
            if (s.state == ShardPhase::done) {
                ++counts.done;
                out << "done on " << without_controls(s.host) << ", " << progress << " (" << s.measured << " measured, " << s.resumed
                    << " resumed, " << s.skipped << " skipped, " << s.failed << " failed), " << without_controls(s.start) << " to " << without_controls(s.end);
            } else if (s.state == ShardPhase::failed) {
                ++counts.failed;
                out << "failed on " << without_controls(s.host) << " at " << without_controls(s.end) << ": " << without_controls(s.error);
            } else if (interrupted(s)) {
                ++counts.failed;
                out << "interrupted on " << without_controls(s.host) << " (pid " << s.pid << " is gone), " << progress << "; rerun it to resume";
            } else {
                ++counts.running;
                out << "running on " << without_controls(s.host) << " (pid " << s.pid
                    << (s.slurm_job.empty() ? "" : ", Slurm job " + without_controls(s.slurm_job)) << ") since " << without_controls(s.start) << ", " << progress;
            }
            out << "\n";
        }
        for (std::size_t index = 0; index < total; ++index)
            if (!seen.count(index)) {
                ++counts.not_started;
                out << "shard " << ShardId{index, total}.label() << ": not started\n";
            }
    }
    if (totals.size() > 1) out << "note: shards of different counts are present; their partitions differ\n";
    out << counts.done << " done, " << counts.running << " running, " << counts.failed << " failed, "
        << counts.not_started << " not started\n";
    return counts;
}

}  // namespace trikv
