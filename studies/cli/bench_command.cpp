// `trikv bench` — time per attend of each cache at several n, beside the machine's measured
// SGEMM and read-bandwidth peaks (one run, one machine state: ratios are comparable).
// With --inputs the caches hold the tokens of .npy files another program wrote, --out writes
// what they attended to, and --csv every repetition: that is how studies/peers/ puts trikv
// beside PyTorch and NumPy on the same inputs.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/npy.hpp"
#include "framework/rng.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "studies/cli/commands.hpp"
#include "studies/machine_peaks.hpp"

namespace trikv::cli {
namespace {

namespace fs = std::filesystem;

struct BenchOptions {
    std::vector<std::string> caches = {"product", "factor:strategy=recompute", "factor"};
    std::vector<std::size_t> n = {512, 1024, 2048, 4096};
    std::size_t d = 64;
    std::size_t heads = 1;
    int repetitions = 5;
    int warmup = 1;
    int threads = 0;
    std::uint64_t seed = 1;
    std::optional<double> scale;  // default 1/d
    std::string inputs;           // directory of k1, k2, v1, v2 ([N, d]) and q ([d]) .npy files
    std::string out;              // directory for each attend's output, .npy
    std::string csv;              // file for one row per timed attend
    bool no_peaks = false;
};

// The tokens a bench fills its caches with and the query it attends: gaussian from the seed,
// or the first n rows of --inputs (one head, float32 as stored).
class BenchTokens {
public:
    explicit BenchTokens(const BenchOptions& opt) : opt_(opt) {
        if (opt.inputs.empty()) return;
        require(opt.heads == 1, "--heads: " + std::to_string(opt.heads) + " with --inputs; the files hold one head");
        const char* names[] = {"k1", "k2", "v1", "v2"};
        for (int s = 0; s < 4; ++s) {
            const fs::path path = fs::path(opt.inputs) / (std::string(names[s]) + ".npy");
            const NpyArray a = read_npy(path);
            require(a.shape.size() == 2 && a.shape[1] == opt.d,
                    path.string() + ": shape has " + std::to_string(a.shape.size()) +
                        " dimensions or a width other than --d " + std::to_string(opt.d) + "; expected [N, d]");
            for (std::size_t n : opt.n)
                require(a.shape[0] >= n, path.string() + ": " + std::to_string(a.shape[0]) +
                                             " rows, fewer than --n " + std::to_string(n));
            streams_[s] = a.to_xarray<float>();
        }
        const fs::path q_path = fs::path(opt.inputs) / "q.npy";
        const NpyArray q = read_npy(q_path);
        require(q.size() == opt.d, q_path.string() + ": " + std::to_string(q.size()) + " elements; expected --d " +
                                       std::to_string(opt.d));
        const xt::xarray<float> values = q.to_xarray<float>();
        query_.assign(values.begin(), values.end());
    }

    // Appends n tokens to an empty cache; returns the query to attend ([heads, d]).
    std::vector<float> fill(Cache& cache, std::size_t n) const {
        const std::size_t width = cache.shape().heads * cache.shape().dim;
        cache.reserve(n);
        if (!opt_.inputs.empty()) {
            for (std::size_t t = 0; t < n; ++t)
                cache.append(1, &streams_[0](t, 0), &streams_[1](t, 0), &streams_[2](t, 0), &streams_[3](t, 0));
            return query_;
        }
        Rng rng(opt_.seed);
        std::vector<float> token(4 * width);
        for (std::size_t t = 0; t < n; ++t) {
            for (float& x : token) x = static_cast<float>(rng.normal());
            cache.append(1, &token[0], &token[width], &token[2 * width], &token[3 * width]);
        }
        std::vector<float> q(width);
        for (float& x : q) x = static_cast<float>(rng.normal());
        return q;
    }

private:
    const BenchOptions& opt_;
    xt::xarray<float> streams_[4];  // k1, k2, v1, v2 from --inputs
    std::vector<float> query_;
};

// A file name from a cache spec: "factor:strategy=fused,dtype=f32" → "factor_strategy_fused_dtype_f32".
std::string file_stem(const std::string& spec) {
    std::string stem = spec;
    for (char& c : stem)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return stem;
}

void write_vector(const fs::path& path, const std::vector<float>& values) {
    NpyArray array;
    array.shape = {values.size()};
    array.data.resize(values.size() * sizeof(float));
    std::memcpy(array.data.data(), values.data(), array.data.size());
    write_npy(path, array);
}

void run(const BenchOptions& opt) {
    ThreadControl threads(opt.threads);
    for (const std::string& spec : opt.caches) parse_cache_spec(spec);  // fail before measuring
    require(!opt.scale || std::isfinite(*opt.scale), "--scale: " + std::to_string(opt.scale.value_or(0)) + " is not finite");
    const BenchTokens tokens(opt);
    if (!opt.out.empty()) fs::create_directories(opt.out);
    std::ofstream csv;
    if (!opt.csv.empty()) {
        csv.open(opt.csv);
        csv.precision(10);
        require(csv.good(), "--csv: cannot write " + opt.csv);
        csv << "cache,n,d,heads,threads,repetition,ms,flops,bytes_moved,resident_bytes,transient_bytes,"
               "sgemm_gflops,read_gbps,output\n";
    }
    PeaksAround around(threads.threads(), !opt.no_peaks);
    if (around.measured())
        std::printf("machine: %d threads, SGEMM %.1f GFLOP/s, read %.1f GB/s at the start (medians); each row's "
                    "%% uses the larger of the peaks measured just before and after it\n",
                    around.start().threads, around.start().sgemm_gflops, around.start().read_gbps);
    else
        std::printf("machine: %d threads, peaks not measured (--no-peaks)\n", around.start().threads);
    std::printf("%-28s %6s %4s %11s %11s %9s %7s %9s %7s %12s %12s %10s %8s\n", "cache", "n", "d", "ms_median",
                "ms_p25-p75", "GFLOP/s", "%sgemm", "GB/s", "%read", "bytes", "transient", "peak_GF/s", "peak_GB/s");
    const double scale = opt.scale.value_or(1.0 / double(opt.d));
    for (const std::string& spec : opt.caches)
        for (std::size_t n : opt.n) {
            const auto cache = make_cache(spec, {opt.heads, opt.d, scale});
            const std::vector<float> q = tokens.fill(*cache, n);
            std::vector<float> out(q.size());
            std::vector<double> ms;
            for (int r = 0; r < opt.warmup + opt.repetitions; ++r) {
                Stopwatch watch;
                cache->attend(1, q.data(), out.data());
                if (r >= opt.warmup) ms.push_back(watch.milliseconds());
            }
            std::string output;
            if (!opt.out.empty()) {
                output = (fs::path(opt.out) /
                          (file_stem(cache->spec()) + "_n" + std::to_string(n) + "_d" + std::to_string(opt.d) + ".npy"))
                             .string();
                write_vector(output, out);
            }
            const CacheCost cost = cache->cost();
            const MachinePeaks peaks = around.after_point();
            for (std::size_t r = 0; r < ms.size() && csv.is_open(); ++r)
                csv << '"' << cache->spec() << "\"," << n << ',' << opt.d << ',' << opt.heads << ',' << peaks.threads
                    << ',' << r << ',' << ms[r] << ',' << cost.flops << ',' << cost.bytes_moved << ',' << cache->bytes()
                    << ',' << cache->transient_peak_bytes() << ',' << peaks.sgemm_gflops << ',' << peaks.read_gbps
                    << ',' << output << '\n';
            csv.flush();
            const double med = median(ms), seconds = med / 1e3;
            const double gflops = cost.flops / seconds / 1e9, gbps = cost.bytes_moved / seconds / 1e9;
            char spread[32];
            std::snprintf(spread, sizeof spread, "%.2f-%.2f", quantile(ms, 0.25), quantile(ms, 0.75));
            std::printf("%-28s %6zu %4zu %11.3f %11s %9.1f %6.0f%% %9.2f %6.0f%% %12zu %12zu %10.1f %8.1f\n",
                        cache->spec().c_str(), n, opt.d, med, spread, gflops,
                        percent_of(gflops, peaks.sgemm_gflops), gbps, percent_of(gbps, peaks.read_gbps),
                        cache->bytes(), cache->transient_peak_bytes(), peaks.sgemm_gflops, peaks.read_gbps);
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
    command->add_option("--seed", opt->seed, "data seed (gaussian tokens, without --inputs)");
    command->add_option("--scale", opt->scale, "score scale (default 1/d)");
    command->add_option("--inputs", opt->inputs,
                        "directory holding k1, k2, v1, v2 .npy [N, d] (N ≥ every --n) and q .npy [d]; "
                        "default: gaussian tokens");
    command->add_option("--out", opt->out, "directory to write each cache's last output to, <spec>_n<n>_d<d>.npy");
    command->add_option("--csv", opt->csv, "file to write one row per timed attend to");
    command->add_flag("--no-peaks", opt->no_peaks, "skip measuring the machine's peaks (fraction columns show 0)");
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
