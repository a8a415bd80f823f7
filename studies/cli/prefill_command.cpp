// `trikv prefill` — time whole-sequence tensor attention (every query of n tokens, causal by
// default: query t over the square [0, t]²) beside the SGEMM peak measured in the same run.
// Flops: Σ_t 4·(t+1)²·d per head causal (the two GEMM-shaped products of docs/math.md §3), 4·n³·d
// non-causal. Each n is a row of results.csv's columns (workload prefill, cache exact:mask=…),
// its last timed output checked against float64 at query positions spread over the sequence,
// written to --csv as bench writes its rows.
#include <cstdio>
#include <filesystem>

#include "attention/tensor_attention.hpp"
#include "framework/checked.hpp"
#include "framework/fnv_hash.hpp"
#include "framework/error.hpp"
#include "framework/files.hpp"
#include "framework/rng.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "studies/cli/arguments.hpp"
#include "studies/cli/commands.hpp"
#include "studies/measure/machine_peaks.hpp"
#include "studies/measure/row_summary.hpp"
#include "studies/results/provenance.hpp"
#include "studies/results/results.hpp"

namespace trikv::cli {
namespace {

// Query positions checked against float64 per n: each costs one float64 decode over its square
// (two, with the squared values of the value-normalised error), so a few, not a study's 64.
constexpr std::size_t kPrefillAccuracyPositions = 8;

struct PrefillOptions {
    std::vector<std::size_t> n = {256, 512, 1024};
    std::size_t d = 64, heads = 1, accuracy_positions = kPrefillAccuracyPositions;
    bool full = false, no_peaks = false;
    int repetitions = 5, warmup = 1, threads = 0;
    std::uint64_t seed = 1;
    std::string csv;  // results.csv's columns, one row per n
};

double prefill_flops(std::size_t n, std::size_t d, std::size_t heads, bool full) {
    double squares = 0;
    for (std::size_t t = 0; t < n; ++t) squares += full ? double(n) * double(n) : double(t + 1) * double(t + 1);
    return 4.0 * squares * double(d) * double(heads);
}

// The row's configuration: the exact engine (no cache) with its mask, stated as a cache spec so
// that figures and fronts tell causal and full apart; its key hashes everything that shapes it.
ResultRow describe_prefill(const PrefillOptions& opt, std::size_t n, int threads) {
    ResultRow row;
    row.cache = std::string("exact:mask=") + (opt.full ? "full" : "causal");
    row.cache_type = "exact";
    row.workload = Workload::prefill;
    row.n = n, row.d = opt.d, row.heads = opt.heads, row.kv_heads = opt.heads;
    row.seed = opt.seed;
    row.attention_scale = default_tensor_scale(opt.d);
    row.warmup = opt.warmup, row.repetitions = opt.repetitions, row.threads = std::size_t(threads);
    row.host = host_name();
    const std::string config = "prefill;cache=" + row.cache + ";n=" + std::to_string(n) + ";d=" +
                               std::to_string(opt.d) + ";heads=" + std::to_string(opt.heads) + ";seed=" +
                               std::to_string(opt.seed) + ";warmup=" + std::to_string(opt.warmup) + ";repetitions=" +
                               std::to_string(opt.repetitions) + ";threads=" + std::to_string(threads) +
                               ";accuracy_positions=" + std::to_string(opt.accuracy_positions);
    row.key = Fnv1a().mix(config).hex();  // as a study point's key
    return row;
}

// The output's error at query positions spread over the sequence, against the float64 tensor
// kernel (checked against attention/reference's plain loops by the tests) on the same inputs.
void record_prefill_accuracy(ResultRow& row, const PrefillOptions& opt, const Heads<float>& out,
                             const std::array<const Heads<float>*, 5>& inputs) {
    const std::size_t n = row.n, d = opt.d, heads = opt.heads, width = heads * d;
    const auto wide = [](const Heads<float>& x) { return Heads<double>(xt::cast<double>(x)); };
    const Heads<double> q = wide(*inputs[0]), k1 = wide(*inputs[1]), k2 = wide(*inputs[2]), v1 = wide(*inputs[3]),
                        v2 = wide(*inputs[4]), v1_squared = v1 * v1, v2_squared = v2 * v2;
    const double scale = row.attention_scale;
    MemoryMeter scratch;
    QueryErrors errors;
    for (const std::size_t t : accuracy_positions_of(n, opt.accuracy_positions)) {
        const std::size_t rows = opt.full ? n : t + 1;
        std::vector<float> got(width);
        std::vector<double> exact(width), squared(width);
        for (std::size_t h = 0; h < heads; ++h) {
            const auto at = [&](const Heads<double>& x) { return StoredRows<double>::contiguous(x.data() + h * n * d, rows, d); };
            const double* query = q.data() + (h * n + t) * d;
            tensor_decode(1, query, at(k1), at(k2), at(v1), at(v2), scale, exact.data() + h * d, scratch);
            tensor_decode(1, query, at(k1), at(k2), at(v1_squared), at(v2_squared), scale, squared.data() + h * d, scratch);
            std::copy_n(out.data() + (h * n + t) * d, d, got.data() + h * d);
        }
        record_error(row, got, exact, 1, width);
        errors.add(got.data(), exact.data(), squared.data(), width);
    }
    record_accuracy(row, errors);
}

void run(const PrefillOptions& opt) {
    for (std::size_t n : opt.n)  // refuse before measuring or printing anything
        allocatable_bytes({6 * sizeof(float) + 7 * sizeof(double), opt.heads, n, opt.d},
                          "prefill --n " + std::to_string(n) + ": the inputs and output (6 × heads × n × d floats) and "
                          "the accuracy check's float64 copies (7 × heads × n × d)");
    if (!opt.csv.empty()) {  // refused before anything is measured; an empty table until the first n
        std::error_code error;
        require(!std::filesystem::is_directory(opt.csv, error), "--csv " + printable(opt.csv) + ": is a directory");
        write_results_csv(opt.csv, {});
    }
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
    std::vector<ResultRow> rows;
    for (std::size_t n : opt.n) {
        Rng rng(opt.seed);
        auto random = [&] {
            Heads<float> x = xt::zeros<float>({opt.heads, n, opt.d});
            for (float& value : x) value = static_cast<float>(rng.normal());
            return x;
        };
        const Heads<float> q = random(), k1 = random(), k2 = random(), v1 = random(), v2 = random();
        ResultRow row = describe_prefill(opt, n, threads.threads());
        const auto scale = static_cast<float>(row.attention_scale);
        std::vector<double> ms;
        Heads<float> out;
        for (int r = 0; r < opt.warmup + opt.repetitions; ++r) {
            Stopwatch watch;
            out = tensor_prefill(q, k1, k2, v1, v2, !opt.full, scale);
            if (r >= opt.warmup) ms.push_back(watch.milliseconds());
        }
        const MachinePeaks peaks = around.after_point();
        record_times(row, ms, prefill_flops(n, opt.d, opt.heads, opt.full), 0, peaks);
        // The keys and values a prefill reads, as allocated (the kernel's scratch is not counted here).
        row.bytes = row.logical_bytes = double(k1.size() + k2.size() + v1.size() + v2.size()) * sizeof(float);
        row.bytes_source = "inputs";
        record_prefill_accuracy(row, opt, out, {&q, &k1, &k2, &v1, &v2});
        std::printf("%6zu %4zu %5zu %-7s %11.3f %7.3f-%-7.3f %9.1f %6.0f%% %10.1f\n", n, opt.d, opt.heads,
                    opt.full ? "full" : "causal", row.step_ms_median, row.step_ms_p25, row.step_ms_p75, row.gflops,
                    100 * row.gflops_fraction, peaks.sgemm_gflops);
        std::fflush(stdout);
        rows.push_back(row);
        // Rewritten whole after every n (atomically): an interrupted prefill keeps what it measured.
        if (!opt.csv.empty()) write_results_csv(opt.csv, rows);
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
    command->add_option("--accuracy-positions", opt->accuracy_positions,
                        "query positions whose output is checked against float64")
        ->check(whole_in(bounds::kAccuracyPositions));
    command->add_flag("--no-peaks", opt->no_peaks, "skip measuring the SGEMM peak (the %sgemm column shows 0)");
    command->add_option("--csv", opt->csv, "file to write one row per n to, with results.csv's columns");
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
