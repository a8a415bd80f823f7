// Micro-benchmark of the fused decode kernel (tensor_decode) against the machine's SGEMM peak
// (docs/performance.md, "Issue 16"). A case G,W1,W2,D is one decode step of G queries that share
// one set of rows: W1 rows of K1/V1 and W2 of K2/V2, head dimension D. That covers
//
//   windowed grouped decode   64,32,512,128   (a kv head's 64 query heads over its windows)
//   single-head window         1,32,512,128
//   the exact factor kernel    1,2048,2048,64 (one query over all n² pairs of an n-token cache)
//
// FLOPs per step: 4·G·W1·W2·D — the scores GEMM (2·G·W1·W2·D) and the value GEMM (as many);
// the n² exps and the O(G·(W1+W2)·D) rest are not counted. Every round times one OpenBLAS SGEMM
// of 2048² (both threads: the peak's definition, studies/measure/machine_peaks.cpp) and then each case
// once, so a change in the shared machine's load hits the peak and the kernels alike; each
// case's % of peak is taken round by round against that round's SGEMM, and the median and
// p25–p75 (min–max) over rounds are printed. A sample repeats the step for at least
// kSampleSeconds and takes the mean.
//
//   trikv_decode_micro [--rounds R] [--threads T] [--no-peak] [--blas] CASE...
//       --no-peak: skip the SGEMM (% columns print 0), for profiling the kernel alone;
//       --blas: each case twice per round, register-tiled kernel then the BLAS path
//       (IsaOverride(Isa::portable)), as cases "tiled:G,W1,W2,D" and "blas:G,W1,W2,D": an A/B pair per round
//   trikv_decode_micro [--rounds R] --inputs DIR --out FILE CASE   (q [G,D], k1, v1 [W1,D],
//       k2, v2 [W2,D] float32 .npy from DIR; the step's output [G,D] written to FILE; the peer
//       benchmark studies/peers/window_gqa.py checks it and compares the times)
//
// Output: one `round` line per round and case (ms, GFLOP/s, the round's SGEMM GFLOP/s, %), then
// one `case` line per case with the summaries.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "attention/tensor_attention.hpp"
#include "framework/error.hpp"
#include "framework/isa.hpp"
#include "framework/npy.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "studies/measure/machine_peaks.hpp"

namespace trikv {
namespace {

constexpr double kSampleSeconds = 0.05;
constexpr int kDefaultRounds = 11;

struct Case {
    std::size_t queries = 0, rows1 = 0, rows2 = 0, dim = 0;
    std::string name() const {
        return std::to_string(queries) + "," + std::to_string(rows1) + "," + std::to_string(rows2) + "," +
               std::to_string(dim);
    }
    double flops() const { return 4.0 * double(queries) * double(rows1) * double(rows2) * double(dim); }
};

// "G,W1,W2,D", each a positive integer.
Case parse_case(const std::string& text) {
    std::vector<std::size_t> fields;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const std::size_t end = std::min(text.find(',', begin), text.size());
        const std::string field = text.substr(begin, end - begin);
        require(!field.empty() && field.size() <= 7 && field.find_first_not_of("0123456789") == std::string::npos &&
                    std::stoul(field) > 0,
                "case: '" + text + "' is not G,W1,W2,D (four positive integers below 10^7)");
        fields.push_back(std::stoul(field));
        begin = end + 1;
    }
    require(fields.size() == 4, "case: '" + text + "' is not G,W1,W2,D (four positive integers below 10^7)");
    return {fields[0], fields[1], fields[2], fields[3]};
}

// The step's inputs: gaussian, or read from a directory of .npy files of the case's shapes.
struct Inputs {
    std::vector<float> q, k1, k2, v1, v2;

    Inputs(const Case& c, const std::string& directory) {
        const std::pair<std::vector<float>*, std::vector<std::size_t>> arrays[] = {
            {&q, {c.queries, c.dim}}, {&k1, {c.rows1, c.dim}}, {&v1, {c.rows1, c.dim}},
            {&k2, {c.rows2, c.dim}}, {&v2, {c.rows2, c.dim}}};
        const char* names[] = {"q", "k1", "v1", "k2", "v2"};
        std::mt19937 rng(16);
        std::normal_distribution<float> gaussian;
        for (std::size_t a = 0; a < 5; ++a) {
            std::vector<float>& values = *arrays[a].first;
            values.resize(arrays[a].second[0] * arrays[a].second[1]);
            if (directory.empty()) {
                for (float& x : values) x = gaussian(rng);
                continue;
            }
            const std::string path = directory + "/" + names[a] + ".npy";
            const NpyArray array = read_npy(path);
            require(array.shape == arrays[a].second, "--inputs: " + path + " does not have the case's shape");
            array.copy_finite_to(values.data(), path);
        }
    }
};

class Step {
public:
    Step(const Case& c, const std::string& inputs, bool blas)
        : case_(c), blas_(blas), in_(c, inputs), out_(c.queries * c.dim) {}

    void run() {
        std::optional<IsaOverride> blas;  // level portable: two BLAS GEMMs per tile
        if (blas_) blas.emplace(Isa::portable);
        const auto rows = [&](const std::vector<float>& x, std::size_t n) {
            return StoredRows<float>::contiguous(x.data(), n, case_.dim);
        };
        tensor_decode(case_.queries, in_.q.data(), rows(in_.k1, case_.rows1), rows(in_.k2, case_.rows2),
                      rows(in_.v1, case_.rows1), rows(in_.v2, case_.rows2),
                      static_cast<float>(1.0 / std::sqrt(double(case_.dim))), out_.data(), scratch_);
    }
    // Mean seconds of one step over a sample of at least kSampleSeconds.
    double sample() {
        std::size_t steps = 0;
        Stopwatch watch;
        do {
            run();
            ++steps;
        } while (watch.seconds() < kSampleSeconds);
        return watch.seconds() / double(steps);
    }
    const Case& shape() const { return case_; }
    std::string name() const { return (blas_ ? "blas:" : compare_ ? "tiled:" : "") + case_.name(); }
    void set_compared() { compare_ = true; }
    const std::vector<float>& output() const { return out_; }

private:
    Case case_;
    bool blas_, compare_ = false;
    Inputs in_;
    std::vector<float> out_;
    MemoryMeter scratch_;
};

int run(int argc, char** argv) {
    int rounds = kDefaultRounds, threads = 0;
    std::string inputs, out;
    bool measure_peak = true, compare_blas = false;
    std::vector<Case> cases;
    for (int a = 1; a < argc; ++a) {
        const std::string arg = argv[a];
        const bool has_value = a + 1 < argc;
        if (arg == "--rounds" && has_value) {
            rounds = std::atoi(argv[++a]);
            require(rounds >= 1 && rounds <= 1000, "--rounds: " + std::string(argv[a]) + " is not in [1, 1000]");
        } else if (arg == "--threads" && has_value) {
            threads = std::atoi(argv[++a]);
            require(threads >= 1 && threads <= 4096, "--threads: " + std::string(argv[a]) + " is not in [1, 4096]");
        } else if (arg == "--blas") {
            compare_blas = true;
        } else if (arg == "--no-peak") {
            measure_peak = false;
        } else if (arg == "--inputs" && has_value) {
            inputs = argv[++a];
        } else if (arg == "--out" && has_value) {
            out = argv[++a];
        } else {
            cases.push_back(parse_case(arg));
        }
    }
    require(!cases.empty(), "case: none given (G,W1,W2,D)");
    require((inputs.empty() && out.empty()) || (!inputs.empty() && !out.empty() && cases.size() == 1),
            "--inputs: needs --out and exactly one case");

    ThreadControl control(threads);
    std::deque<Step> steps;  // not moved: each holds its MemoryMeter
    for (const Case& c : cases) {
        steps.emplace_back(c, inputs, false);
        if (!compare_blas) continue;
        steps.back().set_compared();
        steps.emplace_back(c, inputs, true);
    }
    if (!out.empty()) {  // the output checked by the peer benchmark, written before any timing
        steps.front().run();
        const Case& c = steps.front().shape();
        xt::xarray<float> result = xt::adapt(steps.front().output(), std::vector<std::size_t>{c.queries, c.dim});
        write_npy(out, make_npy(result));
    }
    for (Step& step : steps) step.run();  // warm-up: scratch, caches, TBB's workers

    std::printf("threads %d, %d rounds; FLOPs per step 4*G*W1*W2*D\n", control.threads(), rounds);
    std::vector<std::vector<double>> ms(steps.size()), percent(steps.size());
    for (int r = 0; r < rounds; ++r) {
        const double peak = measure_peak ? measure_sgemm_gflops(control.threads(), 1) : 0.0;
        for (std::size_t s = 0; s < steps.size(); ++s) {
            const double seconds = steps[s].sample();
            const double gflops = steps[s].shape().flops() / seconds / 1e9;
            ms[s].push_back(seconds * 1e3);
            percent[s].push_back(percent_of(gflops, peak));
            std::printf("round %d case %s ms %.4f gflops %.1f sgemm_gflops %.1f percent %.1f\n", r,
                        steps[s].name().c_str(), seconds * 1e3, gflops, peak, percent[s].back());
        }
    }
    std::printf("%-18s %10s %16s %8s %14s %14s\n", "case G,W1,W2,D", "ms_median", "ms_p25-p75", "%sgemm",
                "%sgemm_p25-p75", "%sgemm_min-max");
    for (std::size_t s = 0; s < steps.size(); ++s) {
        const auto& p = percent[s];
        std::printf("case %-13s %10.4f %7.4f-%-8.4f %7.1f%% %6.1f-%-7.1f %6.1f-%-7.1f\n",
                    steps[s].name().c_str(), median(ms[s]), quantile(ms[s], 0.25), quantile(ms[s], 0.75),
                    median(p), quantile(p, 0.25), quantile(p, 0.75), *std::min_element(p.begin(), p.end()),
                    *std::max_element(p.begin(), p.end()));
    }
    // A/B pairs (--blas): time of the BLAS path over the tiled kernel's, round by round.
    for (std::size_t s = 0; compare_blas && s + 1 < steps.size(); s += 2) {
        std::vector<double> ratio;
        for (int r = 0; r < rounds; ++r) ratio.push_back(ms[s + 1][r] / ms[s][r]);
        std::printf("speedup %-13s blas/tiled %.2f [p25-p75 %.2f-%.2f, min-max %.2f-%.2f]\n",
                    steps[s].shape().name().c_str(), median(ratio), quantile(ratio, 0.25), quantile(ratio, 0.75),
                    *std::min_element(ratio.begin(), ratio.end()), *std::max_element(ratio.begin(), ratio.end()));
    }
    return 0;
}

}  // namespace
}  // namespace trikv

int main(int argc, char** argv) {
    try {
        return trikv::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trikv_decode_micro: %s\n", e.what());
        return 2;
    }
}
