#include "studies/cli/point_options.hpp"

#include <limits>

#include "studies/cli/arguments.hpp"

namespace trikv::cli {

void add_point_options(CLI::App* command, PointOptions& o) {
    command->add_option("--cache", o.caches, "cache spec (repeatable; replaces the study's caches and grids)");
    command->add_option("--n", o.n, "tokens before the timed steps (repeatable)")->check(whole_in(bounds::kTokens));
    command->add_option("--d", o.d, "head dimension (repeatable)")->check(whole_in(bounds::kHeadDim));
    command->add_option("--heads", o.heads, "query heads")->check(whole_in(bounds::kHeads));
    command->add_option("--kv-heads", o.kv_heads, "key/value heads, each dividing heads (repeatable; docs/math.md §9)")
        ->check(whole_in(bounds::kHeads));
    command->add_option("--variant", o.variants, "score variant: trilinear | rank1 | strassen (repeatable)")
        ->check(CLI::IsMember(variant_names()));
    command->add_option("--k2-bias", o.k2_bias, "added to every k2 row (docs/math.md §9; 0 = none)")
        ->check(real_in(bounds::kBias));
    command->add_option("--v2-bias", o.v2_bias, "added to every v2 row (docs/math.md §9; 0 = none)")
        ->check(real_in(bounds::kBias));
    command->add_option("--threads", o.threads, "worker threads (0 = all)")->check(whole_in(bounds::kThreads));
    command->add_option("--repetitions", o.repetitions, "timed steps per point")->check(whole_in(bounds::kRepetitions));
    command->add_option("--warmup", o.warmup, "untimed steps first")->check(whole_in(bounds::kWarmup));
    command->add_option("--seed", o.seeds, "data seed (repeatable: each seed a point of its own)")
        ->check(whole_in(bounds::kSeed));
    command->add_option("--accuracy-positions", o.accuracy_positions,
                        "decode: query positions over the sequence the accuracy is measured at")
        ->check(whole_in(bounds::kAccuracyPositions));
    command->add_option("--scale", o.scales,
                        "scale of the scores (repeatable; default: each cache's attention kind's, tensor 1/d, matrix 1/√d)")
        ->check(real_in(bounds::kScale));
    command->add_option("--data", o.kinds, kind_choices<DataKind>() + " (repeatable)");
    command->add_option("--nonzeros", o.nonzeros, "sparse data: non-zeros per key/value row (repeatable)")
        ->check(whole_in(bounds::kNonzeros));
    command->add_option("--support", o.supports, "sparse data: " + kind_choices<Support>() + " (repeatable)");
    command->add_option("--workload", o.workload, kind_choices<Workload>() + " (var: scale-wise generation, docs/math.md §7)");
    command->add_option("--schedule", o.schedule, "var: side of each scale's token map (repeatable)")
        ->check(whole_in(bounds::kScheduleSide));
    command->add_option("--mem-limit", o.mem_limit, "skip points projected above this many bytes, or P% of the memory available")
        ->check(mem_limit_text());
    command->add_flag("--no-peaks", o.no_peaks, "skip measuring the machine's peaks (fraction columns stay 0)");
}

void apply_point_options(const PointOptions& o, StudySpec& spec) {
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
    if (o.k2_bias) spec.k2_bias = *o.k2_bias;
    if (o.v2_bias) spec.v2_bias = *o.v2_bias;
    if (o.threads) spec.threads = *o.threads;
    if (o.repetitions) spec.repetitions = *o.repetitions;
    if (o.warmup) spec.warmup = *o.warmup;
    if (!o.seeds.empty()) spec.seeds = o.seeds;
    if (o.accuracy_positions) spec.accuracy_positions = *o.accuracy_positions;
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
    // var takes its tokens from the schedule: the study's n sweep does not apply.
    if (spec.workload == Workload::var && o.n.empty()) spec.n.clear();
    if (!o.mem_limit.empty()) {
        const MemLimit limit = parse_mem_limit(o.mem_limit);
        spec.mem_limit = double(limit.bytes);
        if (limit.fraction > 0) spec.mem_limit_fraction = limit.fraction;
    }
    if (o.no_peaks) spec.measure_peaks = false;
}

}  // namespace trikv::cli
