#include "studies/cluster/shard_run.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "framework/error.hpp"
#include "framework/threads.hpp"
#include "studies/run/finish.hpp"
#include "studies/results/provenance.hpp"
#include "studies/cluster/shard_state.hpp"

namespace trikv {
namespace {

// The Slurm job running this process: ARRAYJOB_TASK for an array task, else JOBID, else empty.
std::string slurm_job() {
    const char* array = std::getenv("SLURM_ARRAY_JOB_ID");
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (array && task) return std::string(array) + "_" + task;
    const char* job = std::getenv("SLURM_JOB_ID");
    return job ? job : "";
}

}  // namespace

StudySummary run_shard(const StudySpec& spec, ShardId shard, std::optional<MachinePeaks> known_peaks) {
    validate_study(spec);
    require(!spec.out.empty(), "study: --shard needs an output directory (out)");
    std::vector<StudyPoint> points = expand_study(spec);
    const std::set<std::string> keys = shard_point_keys(points, shard);
    std::error_code error;
    std::filesystem::create_directories(shards_dir(spec.out), error);
    require(!error, "study: out = '" + spec.out + "': cannot create " + shards_dir(spec.out).string() + ": " + error.message());

    // Peaks are measured here, not by run_study, so that the state file records them from the start.
    MachinePeaks peaks;
    if (known_peaks) {
        peaks = *known_peaks;
    } else {
        ThreadControl threads(spec.threads);
        peaks = spec.measure_peaks ? measure_machine_peaks(threads.threads()) : MachinePeaks{0, 0, threads.threads()};
    }
    ShardState state;
    state.shard = shard;
    state.host = host_name();
    state.start = now_utc();
    state.pid = ::getpid();
    state.slurm_job = slurm_job();
    const Provenance process = this_process(peaks);
    state.git_commit = process.git_commit;
    state.cpu = process.cpu;
    state.compiler = process.compiler;
    state.build_flags = process.build_flags;
    state.threads = peaks.threads;
    state.sgemm_gflops = peaks.sgemm_gflops;
    state.read_gbps = peaks.read_gbps;
    state.points = keys.size();
    write_shard_state(spec.out, state);
    std::cerr << "shard " << shard.label() << ": " << keys.size() << " points\n";

    StudyOptions options;
    options.peaks = peaks;
    options.points = std::move(points);
    options.measures = [&](std::size_t, const StudyPoint& point) { return keys.count(point.key()) > 0; };
    options.results_csv = shards_dir(spec.out) / (shard.file_stem() + ".csv");
    options.write_outputs = false;
    // One lock per shard: shards run side by side, but the same shard only once.
    options.lock_name = ".lock-" + shard.file_stem();
    StudySummary summary;
    try {
        summary = run_study(spec, options);
    } catch (const std::exception& e) {
        state.state = ShardPhase::failed;
        state.error = e.what();
        state.end = now_utc();
        write_shard_state(spec.out, state);
        throw;
    }
    state.state = ShardPhase::done;
    state.end = now_utc();
    state.measured = summary.measured;
    state.resumed = summary.resumed;
    state.skipped = summary.skipped;
    state.failed = summary.failed;
    write_shard_state(spec.out, state);
    return summary;
}

}  // namespace trikv
