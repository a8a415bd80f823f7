#pragma once
// `trikv study FILE --slurm`: a study as a Slurm job array, one task per shard, plus a merge job
// that runs after every task has ended (docs/cluster.md). Writes into OUT/slurm/:
//   study.toml     the resolved study (command-line options applied, out absolute) that every
//                  task and the merge read, so all see the same points
//   shards.sbatch  the array: task SLURM_ARRAY_TASK_ID runs `--shard ID/N` with threads =
//                  cpus per task; one log per task, shard-ID.log
//   merge.sbatch   `--merge`, log merge.log
// then submits both with `sbatch --parsable` (the merge with --dependency=afterany:ARRAY, so it
// also runs, and reports what is missing, when a task failed).
#include <string>
#include <vector>

#include "studies/spec/study_spec.hpp"

namespace trikv {

struct SlurmOptions {
    std::size_t shards = 4;
    std::string partition;  // empty: the cluster's default
    std::string time;       // time limit per task, e.g. 2:00:00; empty: the partition's
    int cpus = 1;           // cpus per task = the study's threads
    bool dry_run = false;   // write and print the scripts, submit nothing
    // Absolute paths of the plugins loaded at submission (--plugin, TRIKV_PLUGINS): every task
    // and the merge load them with --plugin, or the study's plugin types would be unknown there.
    std::vector<std::string> plugins;
};

struct SlurmJobs {
    std::string array_script, merge_script;  // their text
    std::string array_job, merge_job;        // job ids; empty on a dry run
};

// `trikv`: the executable the tasks run (an absolute path every node can reach).
SlurmJobs submit_study_to_slurm(StudySpec spec, const SlurmOptions& options, const std::string& trikv);

}  // namespace trikv
