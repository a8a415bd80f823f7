#pragma once
// A shard's state file, OUT/shards/ID.toml: written when the shard starts and when it ends, so
// `--status` and the merge know each shard's machine, peaks, start, end and outcome from the
// study directory alone.
#include <filesystem>
#include <string>
#include <vector>

#include "studies/cluster/shards.hpp"
#include "studies/spec/study_kinds.hpp"

namespace trikv {

struct ShardState {
    ShardId shard;
    ShardPhase state = ShardPhase::running;
    std::string host, start, end;   // end: empty while running
    long long pid = 0;
    std::string slurm_job;  // ARRAYJOB_TASK (or JOBID) when run by Slurm, so squeue can be asked
    std::string git_commit;
    std::string cpu, compiler, build_flags;  // "unknown" in state files written before they were kept
    int threads = 0;
    double sgemm_gflops = 0, read_gbps = 0;  // the machine's peaks (0: not measured)
    std::size_t points = 0;                  // the shard's share of the study
    std::size_t measured = 0, resumed = 0, skipped = 0, failed = 0;  // set when done
    std::string error;                       // why the shard failed
};

// A shard recorded as running on this host whose process is gone: killed, it will not finish.
// (On another host this cannot be told from the directory.)
bool interrupted(const ShardState& state);

// Writes OUT/shards/ID.toml atomically.
void write_shard_state(const std::filesystem::path& out, const ShardState& state);
// Every OUT/shards/*.toml, by shard count then index; none if the directory does not exist.
// A damaged file throws trikv::Error naming it and the field.
std::vector<ShardState> read_shard_states(const std::filesystem::path& out);

}  // namespace trikv
