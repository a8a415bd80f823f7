// `trikv bench` — a study of the points on its command line, without a study directory: each
// (cache, n) is resolved and measured exactly as `trikv study` resolves and measures it
// (expand_study, measure_point: same scale, data, accuracy check and key), printed as a table
// beside the machine's SGEMM and read-bandwidth peaks measured around each point, and written
// with results.csv's columns to --csv. With --inputs the caches hold the tokens of .npy files
// another program wrote: that is how studies/peers/ puts trikv beside PyTorch and NumPy.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "caches/registry.hpp"
#include "framework/checked.hpp"
#include "framework/error.hpp"
#include "framework/files.hpp"
#include "framework/threads.hpp"
#include "studies/cli/arguments.hpp"
#include "studies/cli/commands.hpp"
#include "studies/cli/point_options.hpp"
#include "studies/measure/machine_peaks.hpp"
#include "studies/measure/measure.hpp"
#include "studies/results/provenance.hpp"
#include "studies/results/results.hpp"

namespace trikv::cli {
namespace {

struct BenchOptions {
    PointOptions points;
    std::string inputs;  // directory of q, k1, k2, v1, v2 .npy ([N, d] or [heads, N, d])
    std::string csv;     // results.csv's columns, one row per point
};

// bench's defaults where they differ from a study file's: the three exact designs, one warm-up.
StudySpec bench_study(const BenchOptions& opt) {
    StudySpec spec;
    spec.name = "bench";
    spec.caches = {"product", "factor:strategy=recompute", "factor"};
    spec.n = {512, 1024, 2048, 4096};
    spec.d = {64};
    spec.warmup = 1;
    apply_point_options(opt.points, spec);
    if (!opt.inputs.empty()) {
        spec.kinds = {DataKind::npy};
        spec.data.dir = opt.inputs;
    }
    validate_study(spec);
    return spec;
}

// Every point's cache must fit in memory by its cost model, checked before anything is measured.
void require_points_fit(const std::vector<StudyPoint>& points) {
    const double memory = double(physical_memory_bytes());
    for (const StudyPoint& point : points) {
        const double bytes = projected_bytes(point);
        require(bytes <= memory, "bench: " + point.describe() + " would need " + format_number(bytes) +
                                     " bytes, more than this machine's " + format_number(memory) + " bytes of memory");
    }
}

// The point's peak fractions from the peaks measured around it (the larger of before and after).
void record_peaks(ResultRow& row, const MachinePeaks& peaks) {
    row.gflops_fraction = peaks.sgemm_gflops > 0 ? row.gflops / peaks.sgemm_gflops : 0;
    row.gbps_fraction = peaks.read_gbps > 0 ? row.gbps / peaks.read_gbps : 0;
}

void print_row(const ResultRow& row, const MachinePeaks& peaks) {
    if (!row.ok()) {
        std::printf("%-34s %6zu %4zu %s: %s\n", row.cache.c_str(), row.n, row.d, name_of(row.status).c_str(),
                    printable(row.reason).c_str());
        return;
    }
    char spread[32];
    std::snprintf(spread, sizeof spread, "%.2f-%.2f", row.step_ms_p25, row.step_ms_p75);
    std::printf("%-34s %6zu %4zu %11.3f %11s %9.1f %6.0f%% %9.2f %6.0f%% %12.0f %12.0f %9.2g %10.1f %8.1f\n",
                row.cache.c_str(), row.n, row.d, row.step_ms_median, spread, row.gflops, 100 * row.gflops_fraction,
                row.gbps, 100 * row.gbps_fraction, row.bytes, row.transient_peak_bytes, row.rel_l2_error,
                peaks.sgemm_gflops, peaks.read_gbps);
    std::fflush(stdout);
}

void run(const BenchOptions& opt) {
    const StudySpec spec = bench_study(opt);
    ThreadControl threads(spec.threads);
    const std::vector<StudyPoint> points = expand_study(spec);
    require_points_fit(points);
    const double mem_limit = memory_limit(spec.mem_limit);
    if (!opt.csv.empty()) {  // refused before anything is measured; an empty table until the first point
        std::error_code error;
        require(!std::filesystem::is_directory(opt.csv, error), "--csv " + printable(opt.csv) + ": is a directory");
        write_results_csv(opt.csv, {});
    }
    PeaksAround around(threads.threads(), spec.measure_peaks);
    if (around.measured())
        std::printf("machine: %d threads, SGEMM %.1f GFLOP/s, read %.1f GB/s at the start (medians); each row's "
                    "%% uses the larger of the peaks measured just before and after it\n",
                    around.start().threads, around.start().sgemm_gflops, around.start().read_gbps);
    else
        std::printf("machine: %d threads, peaks not measured (--no-peaks)\n", around.start().threads);
    std::printf("%-34s %6s %4s %11s %11s %9s %7s %9s %7s %12s %12s %9s %10s %8s\n", "cache", "n", "d", "ms_median",
                "ms_p25-p75", "GFLOP/s", "%sgemm", "GB/s", "%read", "bytes", "transient", "rel_err", "peak_GF/s",
                "peak_GB/s");
    std::vector<ResultRow> rows;
    const std::string host = host_name();
    for (const StudyPoint& point : points) {
        const MachinePeaks unmeasured{0, 0, threads.threads()};
        std::vector<ResultRow> measured = measure_point(point, unmeasured, mem_limit);
        const MachinePeaks peaks = around.after_point();
        for (ResultRow& row : measured) {
            row.host = host;
            record_peaks(row, peaks);
        }
        print_row(measured.back(), peaks);
        rows.insert(rows.end(), measured.begin(), measured.end());
        // Rewritten whole after every point (atomically): an interrupted bench keeps what it measured.
        if (!opt.csv.empty()) write_results_csv(opt.csv, rows);
    }
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto opt = std::make_shared<BenchOptions>();
    CLI::App* command = app.add_subcommand(
        "bench", "Measure the points on the command line as a study does; print them beside the machine's peaks");
    add_point_options(command, opt->points);
    command->add_option("--inputs", opt->inputs,
                        "directory holding q, k1, k2, v1, v2 .npy ([N, d] or [heads, N, d]; N ≥ n + warm-up + "
                        "repetitions); default: gaussian tokens");
    command->add_option("--csv", opt->csv, "file to write one row per point to, with results.csv's columns");
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
