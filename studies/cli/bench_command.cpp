// `trikv bench` — time per attend of each cache at several n, beside the machine's measured
// SGEMM and read-bandwidth peaks (one run, one machine state: ratios are comparable).
#include <cstdio>
#include <iostream>

#include "caches/registry.hpp"
#include "framework/rng.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "studies/cli/commands.hpp"
#include "studies/machine_peaks.hpp"

namespace trikv::cli {
namespace {

struct BenchOptions {
    std::vector<std::string> caches = {"product", "factor:strategy=recompute", "factor"};
    std::vector<std::size_t> n = {512, 1024, 2048, 4096};
    std::size_t d = 64;
    std::size_t heads = 1;
    int repetitions = 5;
    int warmup = 1;
    int threads = 0;
    std::uint64_t seed = 1;
};

void fill(Cache& cache, std::size_t tokens, Rng& rng) {
    const std::size_t width = cache.shape().heads * cache.shape().dim;
    std::vector<float> token(4 * width);
    cache.reserve(tokens);
    for (std::size_t t = 0; t < tokens; ++t) {
        for (float& x : token) x = static_cast<float>(rng.normal());
        cache.append(&token[0], &token[width], &token[2 * width], &token[3 * width]);
    }
}

void run(const BenchOptions& opt) {
    ThreadControl threads(opt.threads);
    for (const std::string& spec : opt.caches) parse_cache_spec(spec);  // fail before measuring
    const MachinePeaks peaks = measure_machine_peaks(threads.threads());
    std::printf("machine: %d threads, SGEMM %.1f GFLOP/s, read %.1f GB/s (medians)\n", peaks.threads,
                peaks.sgemm_gflops, peaks.read_gbps);
    std::printf("%-28s %6s %4s %11s %11s %9s %7s %9s %7s %12s %12s\n", "cache", "n", "d", "ms_median",
                "ms_p25-p75", "GFLOP/s", "%sgemm", "GB/s", "%read", "bytes", "transient");
    for (const std::string& spec : opt.caches)
        for (std::size_t n : opt.n) {
            Rng rng(opt.seed);
            const auto cache = make_cache(spec, {opt.heads, opt.d, 1.0 / double(opt.d)});
            fill(*cache, n, rng);
            std::vector<float> q(opt.heads * opt.d), out(q.size());
            for (float& x : q) x = static_cast<float>(rng.normal());
            std::vector<double> ms;
            for (int r = 0; r < opt.warmup + opt.repetitions; ++r) {
                Stopwatch watch;
                cache->attend(q.data(), out.data());
                if (r >= opt.warmup) ms.push_back(watch.milliseconds());
            }
            const CacheCost cost = cache->cost();
            const double med = median(ms), seconds = med / 1e3;
            const double gflops = cost.flops / seconds / 1e9, gbps = cost.bytes_moved / seconds / 1e9;
            char spread[32];
            std::snprintf(spread, sizeof spread, "%.2f-%.2f", quantile(ms, 0.25), quantile(ms, 0.75));
            std::printf("%-28s %6zu %4zu %11.3f %11s %9.1f %6.0f%% %9.2f %6.0f%% %12zu %12zu\n",
                        cache->spec().c_str(), n, opt.d, med, spread, gflops,
                        100 * gflops / peaks.sgemm_gflops, gbps, 100 * gbps / peaks.read_gbps,
                        cache->bytes(), cache->transient_peak_bytes());
            std::fflush(stdout);
        }
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto opt = std::make_shared<BenchOptions>();
    CLI::App* command = app.add_subcommand("bench", "Time one attend per cache and n against the machine's peaks");
    command->add_option("--cache", opt->caches, "cache specs (repeatable)");
    command->add_option("--n", opt->n, "tokens in the cache (repeatable)")->check(CLI::PositiveNumber);
    command->add_option("--d", opt->d, "head dimension")->check(CLI::PositiveNumber);
    command->add_option("--heads", opt->heads, "heads")->check(CLI::PositiveNumber);
    command->add_option("--repetitions", opt->repetitions, "timed attends")->check(CLI::PositiveNumber);
    command->add_option("--warmup", opt->warmup, "untimed attends first")->check(CLI::NonNegativeNumber);
    command->add_option("--threads", opt->threads, "worker threads (0 = all)")->check(CLI::Range(0, 4096));
    command->add_option("--seed", opt->seed, "data seed");
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
