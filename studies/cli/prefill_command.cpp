// `trikv prefill` — time whole-sequence tensor attention (every query of n tokens, causal by
// default: query t over the square [0, t]²) beside the SGEMM peak measured in the same run.
// Flops: Σ_t 4·(t+1)²·d per head causal (the two GEMM-shaped products of docs/math.md §3), 4·n³·d
// non-causal.
#include <cstdio>

#include "attention/tensor_attention.hpp"
#include "framework/checked.hpp"
#include "framework/rng.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "studies/cli/arguments.hpp"
#include "studies/cli/commands.hpp"
#include "studies/measure/machine_peaks.hpp"

namespace trikv::cli {
namespace {

struct PrefillOptions {
    std::vector<std::size_t> n = {256, 512, 1024};
    std::size_t d = 64, heads = 1;
    bool full = false, no_peaks = false;
    int repetitions = 5, warmup = 1, threads = 0;
    std::uint64_t seed = 1;
};

double prefill_flops(std::size_t n, std::size_t d, std::size_t heads, bool full) {
    double squares = 0;
    for (std::size_t t = 0; t < n; ++t) squares += full ? double(n) * double(n) : double(t + 1) * double(t + 1);
    return 4.0 * squares * double(d) * double(heads);
}

void run(const PrefillOptions& opt) {
    for (std::size_t n : opt.n)  // refuse before measuring or printing anything
        allocatable_bytes({6, opt.heads, n, opt.d, sizeof(float)},
                          "prefill --n " + std::to_string(n) + ": the inputs and output (6 × heads × n × d floats)");
    ThreadControl threads(opt.threads);
    PeaksAround around(threads.threads(), !opt.no_peaks);
    if (around.measured())
        std::printf("machine: %d threads, SGEMM %.1f GFLOP/s at the start (median); each row's %% uses the larger of "
                    "the peaks measured just before and after it\n",
                    around.start().threads, around.start().sgemm_gflops);
    else
        std::printf("machine: %d threads, peaks not measured (--no-peaks)\n", around.start().threads);
    std::printf("%6s %4s %5s %-7s %11s %15s %9s %7s %10s\n", "n", "d", "heads", "mask", "ms_median", "ms_p25-p75",
                "GFLOP/s", "%sgemm", "peak_GF/s");
    for (std::size_t n : opt.n) {
        Rng rng(opt.seed);
        auto random = [&] {
            Heads<float> x = xt::zeros<float>({opt.heads, n, opt.d});
            for (float& value : x) value = static_cast<float>(rng.normal());
            return x;
        };
        const Heads<float> q = random(), k1 = random(), k2 = random(), v1 = random(), v2 = random();
        const float scale = static_cast<float>(default_tensor_scale(opt.d));
        std::vector<double> ms;
        for (int r = 0; r < opt.warmup + opt.repetitions; ++r) {
            Stopwatch watch;
            const Heads<float> out = tensor_prefill(q, k1, k2, v1, v2, !opt.full, scale);
            if (r >= opt.warmup) ms.push_back(watch.milliseconds());
        }
        const MachinePeaks peaks = around.after_point();
        const double med = median(ms), gflops = prefill_flops(n, opt.d, opt.heads, opt.full) / med / 1e6;
        std::printf("%6zu %4zu %5zu %-7s %11.3f %7.3f-%-7.3f %9.1f %6.0f%% %10.1f\n", n, opt.d, opt.heads,
                    opt.full ? "full" : "causal", med, quantile(ms, 0.25), quantile(ms, 0.75), gflops,
                    percent_of(gflops, peaks.sgemm_gflops), peaks.sgemm_gflops);
    }
}

}  // namespace

void add_prefill_command(CLI::App& app) {
    auto opt = std::make_shared<PrefillOptions>();
    CLI::App* command =
        app.add_subcommand("prefill", "Time whole-sequence tensor attention beside the measured SGEMM peak");
    command->add_option("--n", opt->n, "tokens (repeatable)")->check(whole_in(bounds::kTokens));
    command->add_option("--d", opt->d, "head dimension")->check(whole_in(bounds::kHeadDim));
    command->add_option("--heads", opt->heads, "heads")->check(whole_in(bounds::kHeads));
    command->add_flag("--full", opt->full, "non-causal: every query over all n² pairs");
    command->add_option("--repetitions", opt->repetitions, "timed runs")->check(whole_in(bounds::kRepetitions));
    command->add_option("--warmup", opt->warmup, "untimed runs first")->check(whole_in(bounds::kWarmup));
    command->add_option("--threads", opt->threads, "worker threads (0 = all)")->check(whole_in(bounds::kThreads));
    command->add_option("--seed", opt->seed, "data seed")->check(whole_in(bounds::kSeed));
    command->add_flag("--no-peaks", opt->no_peaks, "skip measuring the SGEMM peak (the %sgemm column shows 0)");
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
