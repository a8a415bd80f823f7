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
#include "studies/shard_merge.hpp"
#include "studies/shard_run.hpp"
#include "studies/slurm.hpp"
#include "studies/study_runner.hpp"
#include "studies/study_status.hpp"

#ifndef TRIKV_DEFAULT_STUDY
#define TRIKV_DEFAULT_STUDY "studies/default.toml"
#endif

namespace trikv::cli {
namespace {

struct StudyOverrides {
    std::string file;
    std::string out, workload;
    std::vector<std::string> kinds;
    std::vector<std::string> caches;
    std::vector<std::size_t> n, d, schedule, nonzeros, kv_heads;
    std::vector<std::string> supports, variants;
    std::optional<std::size_t> heads;
    std::optional<int> threads, repetitions, warmup;
    std::vector<double> scales;
    std::optional<std::uint64_t> seed;
    std::string mem_limit;  // empty: the study file's limit
    bool no_peaks = false, wait = false;
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
        const MergeReport report = merge_shards(spec);
        for (const std::string& note : report.notes) std::cerr << "merge: " << note << "\n";
        std::cerr << "merged " << report.present << " of " << report.points << " points -> " << spec.out << "\n";
    } else if (o.slurm) {
        const std::string trikv = std::filesystem::read_symlink("/proc/self/exe").string();
        SlurmOptions options = o.slurm_options;
        options.plugins = loaded_plugins();
        const SlurmJobs jobs = submit_study_to_slurm(spec, options, trikv);
        const std::string study = std::filesystem::absolute(spec.out).lexically_normal().string() + "/slurm/study.toml";
        if (o.slurm_options.dry_run) std::cout << jobs.array_script << "\n" << jobs.merge_script;
        else std::cerr << "submitted: shards as array job " << jobs.array_job << ", merge as job " << jobs.merge_job
                       << "\nprogress: trikv study " << study << " --status\n";
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
    StudySpec spec = load_study(o.file.empty() ? default_study_path(!o.caches.empty()) : o.file);
    if (!o.out.empty()) spec.out = o.out;
    if (!o.caches.empty()) {
        spec.caches = o.caches;
        spec.grids.clear();
    }
    if (!o.n.empty()) spec.n = o.n;
    if (!o.d.empty()) spec.d = o.d;
    if (o.heads) spec.heads = {*o.heads};
    if (!o.kv_heads.empty()) spec.kv_heads = o.kv_heads;
    if (!o.variants.empty()) {
        spec.variants.clear();
        for (const std::string& variant : o.variants) spec.variants.push_back(parse_variant(variant, "study: variant"));
    }
    if (o.threads) spec.threads = *o.threads;
    if (o.repetitions) spec.repetitions = *o.repetitions;
    if (o.warmup) spec.warmup = *o.warmup;
    if (o.seed) spec.seed = *o.seed;
    if (!o.scales.empty()) spec.scales = o.scales;
    if (!o.kinds.empty()) {
        spec.kinds.clear();
        for (const std::string& kind : o.kinds) spec.kinds.push_back(parse_kind<DataKind>(kind, "study: data.kind"));
    }
    if (!o.nonzeros.empty()) spec.nonzeros = o.nonzeros;
    if (!o.supports.empty()) {
        spec.supports.clear();
        for (const std::string& support : o.supports) spec.supports.push_back(parse_kind<Support>(support, "study: data.support"));
    }
    if (!o.workload.empty()) spec.workload = parse_kind<Workload>(o.workload, "study: workload");
    if (!o.schedule.empty()) spec.schedule = o.schedule;
    // var takes its tokens from the schedule: the file's n sweep does not apply.
    if (spec.workload == Workload::var && o.n.empty()) spec.n.clear();
    if (!o.mem_limit.empty()) {
        const MemLimit limit = parse_mem_limit(o.mem_limit);
        spec.mem_limit = double(limit.bytes);
        if (limit.fraction > 0) spec.mem_limit_fraction = limit.fraction;
    }
    if (o.no_peaks) spec.measure_peaks = false;
    StudyOptions options;
    options.wait_for_lock = o.wait;
    if (run_sharded(o, spec)) return;
    const StudySummary summary = run_study(spec, options);
    std::cerr << "study done: " << summary.measured << " measured, " << summary.resumed << " resumed, "
              << summary.skipped << " skipped, " << summary.failed << " failed -> " << summary.out_dir << "\n";
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
    command->add_option("--cache", o->caches, "cache spec (repeatable; replaces the file's caches and grids)");
    command->add_option("--n", o->n, "tokens before the timed steps (repeatable)")->check(whole_in(bounds::kTokens));
    command->add_option("--d", o->d, "head dimension (repeatable)")->check(whole_in(bounds::kHeadDim));
    command->add_option("--heads", o->heads, "heads")->check(whole_in(bounds::kHeads));
    command->add_option("--kv-heads", o->kv_heads, "key/value heads, each dividing heads (repeatable; docs/math.md §9)")
        ->check(whole_in(bounds::kHeads));
    command->add_option("--variant", o->variants, "score variant: trilinear | rank1 | strassen (repeatable)")
        ->check(CLI::IsMember(variant_names()));
    command->add_option("--threads", o->threads, "worker threads (0 = all)")->check(whole_in(bounds::kThreads));
    command->add_option("--repetitions", o->repetitions, "timed steps per point")->check(whole_in(bounds::kRepetitions));
    command->add_option("--warmup", o->warmup, "untimed steps first")->check(whole_in(bounds::kWarmup));
    command->add_option("--seed", o->seed, "data seed")->check(whole_in(bounds::kSeed));
    command->add_option("--scale", o->scales, "scale of the scores (repeatable; default: 1/d for tensor attention)")
        ->check(CLI::Range(std::numeric_limits<double>::min(), 1e6));
    command->add_option("--data", o->kinds, kind_choices<DataKind>() + " (repeatable)");
    command->add_option("--nonzeros", o->nonzeros, "sparse data: non-zeros per key/value row (repeatable)")
        ->check(whole_in(bounds::kNonzeros));
    command->add_option("--support", o->supports, "sparse data: " + kind_choices<Support>() + " (repeatable)");
    command->add_option("--workload", o->workload, kind_choices<Workload>() + " (var: scale-wise generation, docs/math.md §7)");
    command->add_option("--schedule", o->schedule, "var: side of each scale's token map (repeatable)")
        ->check(whole_in(bounds::kScheduleSide));
    command->add_option("--mem-limit", o->mem_limit, "skip points projected above this many bytes, or P% of the memory available")
        ->check(mem_limit_text());
    command->add_flag("--no-peaks", o->no_peaks, "skip measuring the machine's peaks (fraction columns stay 0)");
    command->add_flag("--wait", o->wait, "if another run holds the output directory, wait for it instead of refusing");
    auto* shard = command->add_option("--shard", o->shard, "measure only shard i of N (i/N, 0-based) into OUT/shards/");
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
