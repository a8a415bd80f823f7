// Micro-benchmark of reduced storage against float32 (docs/performance.md, "Issue 28"): one
// decode attend of caches that hold the same n gaussian tokens, timed round by round in
// alternation, so a change in the shared machine's load hits every cache of a round alike. A
// case is a cache spec, optionally with "@LEVEL" (framework/isa.hpp) to run it at a lower
// instruction-set level (e.g. factor:dtype=bf16@avx512 is the bf16 factor without VDPBF16PS).
// Each round also measures the read-bandwidth and SGEMM peaks once (--no-peak skips them), and
// each case's fraction uses that round's peaks and the case's own cost model (bytes_moved,
// flops). Prints per case the median and p25–p75 over rounds of the step time, of the speedup
// over the first case (time first / time case, round by round), of the same two in process CPU
// time (all threads: on a loaded machine it leaves out the waits for a core) and of the
// fractions. Each round also times one 2048² SGEMM on one thread by process CPU time, the
// yardstick of "%sgemm-cpu": a case's FLOPs per CPU-second (all threads) over it — the share of
// one core's SGEMM rate each core reached, which the waits for a core on a shared machine do
// not move (wall-clock fractions do).
//
//   trikv_dtype_micro [--rounds R] [--n N] [--d D] [--heads H --kv-heads K] [--no-peak] CASE...
//       (H query heads over K kv heads, docs/math.md §9; e.g. --heads 64 --kv-heads 1
//       window:w1=32,w2=512 is the windowed grouped decode of docs/performance.md, issue 16)
//   trikv_dtype_micro --kernel-peaks [--rounds R] [--d D]   (the f32 and bf16 tile kernels' rates)
//   e.g. trikv_dtype_micro --n 2048 --d 64 product product:dtype=bf16 product:dtype=int8
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <utility>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "attention/blas.hpp"
#include "attention/pair_tile_bf16.hpp"
#include "attention/pair_tile_kernel.hpp"
#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/isa.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "studies/measure/machine_peaks.hpp"

namespace trikv {
namespace {

constexpr double kSampleSeconds = 0.2;  // a sample repeats the attend at least this long

struct Case {
    std::string spec;
    std::optional<Isa> isa;
    std::unique_ptr<Cache> cache;
    std::vector<double> ms, cpu_ms, speedup, cpu_speedup, read_fraction, sgemm_fraction, sgemm_cpu_fraction;
};

Case make_case(const std::string& text, std::size_t n, const CacheShape& shape, const std::vector<float>& tokens) {
    Case c;
    const std::size_t at = text.find('@');
    c.spec = text.substr(0, at);
    if (at != std::string::npos) c.isa = parse_isa(text.substr(at + 1));
    c.cache = make_cache(c.spec, shape);
    const std::size_t rows = shape.kv_heads * shape.dim;  // one token of one stream
    for (std::size_t t = 0; t < n; ++t) {
        const float* row = tokens.data() + t * 4 * rows;
        c.cache->append(1, row, row + rows, row + 2 * rows, row + 3 * rows);
    }
    return c;
}

// CPU milliseconds of the whole process (every thread).
double process_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

// Wall and CPU milliseconds of one attend, means over a sample. On a machine shared with
// other jobs the CPU time leaves out the time slices the threads waited for a core.
std::pair<double, double> sample_ms(Case& c, const float* q, float* out) {
    std::optional<IsaOverride> level;
    if (c.isa) level.emplace(*c.isa);
    std::size_t steps = 0;
    const double cpu_start = process_cpu_ms();
    const Stopwatch watch;
    do {
        c.cache->attend(1, q, out);
        ++steps;
    } while (watch.seconds() < kSampleSeconds);
    const double count = static_cast<double>(steps);
    return {watch.milliseconds() / count, (process_cpu_ms() - cpu_start) / count};
}

// The tile kernels' own rate, one thread, operands in L1/L2 (kMaxRows × kMaxCols scores over
// d, and the value product over them): the f32 register-tiled kernels of each level this CPU
// runs (AVX2 and AVX-512 micro-tiles) and the bf16 one (VDPBF16PS, scores) — the compute
// ceilings of factor's f32 and bf16 paths. GFLOP/s by CPU time, 2 flops a multiply-add.
void kernel_peaks(std::size_t d) {
    const std::size_t rows = pair_tile::kMaxRows, cols = pair_tile::kMaxCols;
    std::vector<float> a(pair_tile::panel_floats(rows, d), 0.5f), k2(cols * d, 0.25f);
    std::vector<float> s(pair_tile::panel_floats(rows, cols), 0.125f), u(pair_tile::panel_floats(rows, d));
    std::vector<std::uint32_t> a_pairs(a.size() / 2);
    std::vector<bf16> k2_bf16(cols * d, to_bf16(0.25f));
    const double flops = 2.0 * double(rows) * double(cols) * double(d);
    auto rate = [&](auto&& kernel) {
        kernel();  // warm
        std::size_t steps = 0;
        const double start = process_cpu_ms();
        const Stopwatch watch;
        do kernel(), ++steps;
        while (watch.seconds() < kSampleSeconds);
        return flops * double(steps) / ((process_cpu_ms() - start) * 1e6);
    };
    for (const Isa isa : {Isa::avx2, Isa::avx512}) {
        if (detected_isa() < isa) continue;
        const pair_tile::Kernels f32 = pair_tile::kernels(isa);
        const double scores = rate([&] { f32.scores(a.data(), rows, k2.data(), cols, d, s.data()); });
        const double mix = rate([&] { f32.mix(s.data(), rows, k2.data(), cols, d, u.data(), true); });
        // The tile's online softmax, as the FLOP rate of one GEMM it would be if it took no time:
        // the share of a tile's time the two GEMMs get at these rates bounds a fused step.
        std::vector<float> row_max(rows, 0.0f), row_norm(rows, 1.0f);
        const double softmax = rate([&] {
            f32.softmax(s.data(), rows, cols, row_max.data(), row_norm.data(), u.data(), d, true);
        });
        const double gemms = 1 / scores + 1 / mix;
        std::printf("kernel-peak d=%zu f32-%s scores %.1f GFLOP/s  mix %.1f GFLOP/s  softmax %.1f%% of the tile "
                    "-> tile %.1f GFLOP/s\n",
                    d, isa_name(isa), scores, mix, 100 * (1 / softmax) / (gemms + 1 / softmax),
                    2 / (gemms + 1 / softmax));
    }
    double bf16_rate = 0;
    if (pair_tile_bf16::available()) {
        pair_tile_bf16::pack_pairs(a.data(), pair_tile::kPanelRows * d, rows, d, a_pairs.data(), pair_tile::kPanelRows * d / 2);
        bf16_rate = rate([&] { pair_tile_bf16::scores(a_pairs.data(), rows, k2_bf16.data(), cols, d, s.data()); });
    }
    std::printf("kernel-peak d=%zu bf16-tile scores %.1f GFLOP/s (one thread, CPU time)\n", d, bf16_rate);
}

// GFLOP per CPU-second of one 2048² OpenBLAS SGEMM on one thread (after a warm-up).
double sgemm_cpu_gflops() {
    constexpr int n = 2048;
    std::vector<float> a(std::size_t(n) * n, 0.5f), b(std::size_t(n) * n, 0.25f), c(std::size_t(n) * n);
    const BlasThreads one(1);
    double cpu_ms = 0;
    for (int r = 0; r < 2; ++r) {
        const double start = process_cpu_ms();
        blas::gemm(n, n, n, 1.0f, a.data(), n, b.data(), n, false, 0.0f, c.data(), n);
        cpu_ms = process_cpu_ms() - start;
    }
    return 2.0 * n * double(n) * n / cpu_ms * 1e-6;
}

void print_summary(const char* what, const std::vector<double>& values) {
    std::printf("  %s %.3g [%.3g-%.3g]", what, median(values), quantile(values, 0.25), quantile(values, 0.75));
}

int run(int argc, char** argv) {
    int rounds = 9;
    std::size_t n = 2048, d = 64, heads = 1, kv_heads = 0;
    bool peaks = true, kernel_peaks_only = false;
    std::vector<std::string> specs;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
        else if (arg == "--n" && i + 1 < argc) n = std::strtoul(argv[++i], nullptr, 10);
        else if (arg == "--heads" && i + 1 < argc) heads = std::strtoul(argv[++i], nullptr, 10);
        else if (arg == "--kv-heads" && i + 1 < argc) kv_heads = std::strtoul(argv[++i], nullptr, 10);
        else if (arg == "--d" && i + 1 < argc) d = std::strtoul(argv[++i], nullptr, 10);
        else if (arg == "--no-peak") peaks = false;
        else if (arg == "--kernel-peaks") kernel_peaks_only = true;
        else specs.push_back(arg);
    }
    if (kernel_peaks_only) {
        const ThreadControl one(1);
        for (int round = 0; round < rounds; ++round) kernel_peaks(d);
        return 0;
    }
    if (kv_heads == 0) kv_heads = heads;
    require(!specs.empty() && rounds > 0 && n > 0 && d > 0 && heads > 0 && heads % kv_heads == 0,
            "usage: trikv_dtype_micro [--rounds R] [--n N] [--d D] [--heads H --kv-heads K] [--no-peak] CASE...");
    const CacheShape shape{heads, d, 0.0, kv_heads};  // scale 0: each type's default
    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> tokens(n * 4 * kv_heads * d), q(heads * d), out(heads * d);
    for (float& x : tokens) x = normal(rng);
    for (float& x : q) x = normal(rng);
    std::vector<Case> cases;
    for (const std::string& spec : specs) cases.push_back(make_case(spec, n, shape, tokens));
    const int threads = worker_count();
    std::printf("n=%zu d=%zu threads=%d level=%s rounds=%d\n", n, d, threads, isa_name(active_isa()), rounds);
    for (int round = 0; round < rounds; ++round) {
        const MachinePeaks peak = peaks ? measure_machine_peaks(threads, 1) : MachinePeaks{};
        const double sgemm_cpu = peaks ? sgemm_cpu_gflops() : 0;
        double first = 0, first_cpu = 0;
        for (Case& c : cases) {
            const auto [ms, cpu_ms] = sample_ms(c, q.data(), out.data());
            if (&c == &cases.front()) first = ms, first_cpu = cpu_ms;
            const CacheCost cost = c.cache->cost(n);
            c.ms.push_back(ms);
            c.cpu_ms.push_back(cpu_ms);
            c.speedup.push_back(first / ms);
            c.cpu_speedup.push_back(first_cpu / cpu_ms);
            c.read_fraction.push_back(percent_of(cost.bytes_moved / ms * 1e-6, peak.read_gbps));
            c.sgemm_fraction.push_back(percent_of(cost.flops / ms * 1e-6, peak.sgemm_gflops));
            c.sgemm_cpu_fraction.push_back(percent_of(cost.flops / cpu_ms * 1e-6, sgemm_cpu));
            std::printf("round %d %-36s %8.3f ms (cpu %8.3f)  read %5.1f GB/s (peak %5.1f)  %6.1f GFLOP/s (SGEMM %6.1f)"
                        "  %6.1f GFLOP/cpu-s (SGEMM %6.1f)\n",
                        round, (c.spec + (c.isa ? std::string("@") + isa_name(*c.isa) : "")).c_str(), ms, cpu_ms,
                        cost.bytes_moved / ms * 1e-6, peak.read_gbps, cost.flops / ms * 1e-6, peak.sgemm_gflops,
                        cost.flops / cpu_ms * 1e-6, sgemm_cpu);
        }
    }
    for (const Case& c : cases) {
        std::printf("case %-36s", (c.spec + (c.isa ? std::string("@") + isa_name(*c.isa) : "")).c_str());
        print_summary("ms", c.ms);
        print_summary("speedup", c.speedup);
        print_summary("cpu-ms", c.cpu_ms);
        print_summary("cpu-speedup", c.cpu_speedup);
        print_summary("%read", c.read_fraction);
        print_summary("%sgemm", c.sgemm_fraction);
        print_summary("%sgemm-cpu", c.sgemm_cpu_fraction);
        std::printf("\n");
    }
    return 0;
}

}  // namespace
}  // namespace trikv

int main(int argc, char** argv) {
    try {
        return trikv::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trikv_dtype_micro: %s\n", e.what());
        return 2;
    }
}
