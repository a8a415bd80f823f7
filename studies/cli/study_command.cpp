// `trikv study [FILE.toml]` — runs a declarative sweep (default: ./studies/default.toml) and
// leaves results.csv, results.json, pareto.csv and figures/ in the output directory.
// Command-line options replace the corresponding lists of the file.
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>

#include "attention/score_variant.hpp"
#include "framework/error.hpp"
#include "studies/cli/arguments.hpp"
#include "studies/cli/commands.hpp"
#include "studies/cli/plugins.hpp"
#include "studies/cli/point_options.hpp"
#include "studies/cluster/shard_merge.hpp"
#include "studies/cluster/shard_run.hpp"
#include "studies/cli/slurm.hpp"
#include "studies/run/study_runner.hpp"
#include "studies/cluster/study_status.hpp"

#ifndef TRIKV_DEFAULT_STUDY
#define TRIKV_DEFAULT_STUDY "studies/default.toml"
#endif

namespace trikv::cli {
namespace {

struct StudyOverrides {
    std::string file, out;
    PointOptions points;
    bool wait = false;
    // sharded studies (docs/cluster.md)
    std::string shard;
    bool merge = false, status = false, slurm = false;
    SlurmOptions slurm_options;
};

// The sharded modes: true if one of them ran.
bool run_sharded(const StudyOverrides& o, StudySpec& spec) {
    if (spec.out.empty()) spec.out = "results/" + spec.name;
    if (o.status) {
        print_study_status(spec, std::cout);
    } else if (o.merge) {
        const MergeReport report = merge_shards(spec, o.wait);
        for (const std::string& note : report.notes) std::cerr << "merge: " << without_controls(note) << "\n";
        std::cerr << "merged " << report.present << " of " << report.points << " points -> " << without_controls(spec.out) << "\n";
    } else if (o.slurm) {
        const std::string trikv = std::filesystem::read_symlink("/proc/self/exe").string();
        SlurmOptions options = o.slurm_options;
        options.plugins = loaded_plugins();
        const SlurmJobs jobs = submit_study_to_slurm(spec, options, trikv);
        const std::string study = std::filesystem::absolute(spec.out).lexically_normal().string() + "/slurm/study.toml";
        if (o.slurm_options.dry_run) std::cout << jobs.array_script << "\n" << jobs.merge_script;
        else std::cerr << "submitted: shards as array job " << jobs.array_job << ", merge as job " << jobs.merge_job
                       << "\nprogress: trikv study " << without_controls(study) << " --status\n";
    } else if (!o.shard.empty()) {
        const StudySummary summary = run_shard(spec, parse_shard(o.shard));
        std::cerr << "shard " << o.shard << " done: " << summary.measured << " measured, " << summary.resumed
                  << " resumed, " << summary.skipped << " skipped, " << summary.failed << " failed\n";
    } else {
        return false;
    }
    return true;
}


// Without a file: the full default study only in the repository (./studies/default.toml), so
// a run elsewhere names the file it looked for instead of starting that long sweep wherever it
// is; with --cache on the command line, the default study's other settings are the base.
std::string default_study_path(bool caches_given) {
    const std::filesystem::path here = std::filesystem::absolute("studies/default.toml");
    if (std::filesystem::is_regular_file(here)) return here.string();
    require(caches_given && std::filesystem::is_regular_file(TRIKV_DEFAULT_STUDY),
            "study: no study file given, and the default study " + here.string() +
                " does not exist; run in the repository, or give a study file or --cache");
    return TRIKV_DEFAULT_STUDY;
}

void run(const StudyOverrides& o) {
    StudySpec spec = load_study(o.file.empty() ? default_study_path(!o.points.caches.empty()) : o.file);
    if (!o.out.empty()) spec.out = o.out;
    apply_point_options(o.points, spec);
    StudyOptions options;
    options.wait_for_lock = o.wait;
    if (run_sharded(o, spec)) return;
    const StudySummary summary = run_study(spec, options);
    std::cerr << "study done: " << summary.measured << " measured, " << summary.resumed << " resumed, "
              << summary.skipped << " skipped, " << summary.failed << " failed -> " << without_controls(summary.out_dir) << "\n";
    if (summary.failed > 0) {
        std::cerr << "trikv: study: " << summary.failed << " point(s) failed (reasons in results.csv); "
                  << "a rerun retries them\n";
        throw ExitStatus{kExitPointFailed};
    }
}

}  // namespace

void add_study_command(CLI::App& app) {
    auto o = std::make_shared<StudyOverrides>();
    CLI::App* command = app.add_subcommand("study", "Run a study: sweep caches and sizes, store results, draw figures");
    command->add_option("file", o->file, "study TOML (default: ./studies/default.toml)");
    command->add_option("--out", o->out, "output directory");
    add_point_options(command, o->points);
    command->add_flag("--wait", o->wait, "if another run holds the output directory, wait for it instead of refusing");
    auto* shard = command->add_option("--shard", o->shard, "measure only shard i of N (i/N, 0-based) into OUT/shards/")
                      // Empty would read as "no --shard": the whole study, unsharded, by mistake.
                      ->check([](const std::string& text) { return text.empty() ? "an empty shard; expected i/N, e.g. 0/4" : ""; });
    auto* merge = command->add_flag("--merge", o->merge, "combine the shards into results.csv, pareto.csv, figures");
    auto* status = command->add_flag("--status", o->status, "report the shards done, running, failed");
    auto* slurm = command->add_flag("--slurm", o->slurm, "submit the study as a Slurm job array and a merge job");
    command->add_option("--shards", o->slurm_options.shards, "--slurm: number of shards (array tasks)")->check(CLI::Range(std::size_t(1), kMaxShards))->needs(slurm);
    command->add_option("--partition", o->slurm_options.partition, "--slurm: partition")->needs(slurm);
    command->add_option("--time", o->slurm_options.time, "--slurm: time limit per task, e.g. 2:00:00")->needs(slurm);
    command->add_option("--cpus", o->slurm_options.cpus, "--slurm: cpus per task (the study's threads)")->check(CLI::Range(1, 4096))->needs(slurm);
    command->add_flag("--dry-run", o->slurm_options.dry_run, "--slurm: write and print the scripts, submit nothing")->needs(slurm);
    shard->excludes(merge)->excludes(status)->excludes(slurm);
    merge->excludes(status)->excludes(slurm);
    status->excludes(slurm);
    command->callback([o] { run(*o); });
}

}  // namespace trikv::cli
