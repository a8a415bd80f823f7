#pragma once
// The machine's measured limits, the denominators of every "fraction of peak" trikv reports:
// SGEMM throughput (OpenBLAS, one large square product, all threads) and streaming read
// bandwidth (the better of two parallel read kernels over a buffer far larger than the caches:
// a plain sum, and row dot products as the streaming attention kernel reads).
#include <cstddef>
#include <vector>

namespace trikv {

struct MachinePeaks {
    double sgemm_gflops = 0;  // median over repetitions
    double read_gbps = 0;     // median over repetitions, the better of the two read kernels
    int threads = 0;
};

// Takes a few seconds. `threads` = worker threads used by the kernels being compared.
MachinePeaks measure_machine_peaks(int threads, int repetitions = 5);
// The SGEMM half alone: median GFLOP/s of `repetitions` 2048² products after one warm-up.
double measure_sgemm_gflops(int threads, int repetitions);

// The peaks around consecutive measured points on a shared machine, whose state drifts within
// seconds (read bandwidth was seen to move between ~30 and ~50 GB/s from one run to the next):
// measures at construction, then again after each point, and gives each point the larger of the
// peaks measured just before and just after it. A yardstick taken in a worse moment than the
// kernel then rarely pushes a fraction above 100%, and a low peak does not flatter a point.
// With measure = false nothing is measured and every peak is 0 (fractions then print as 0).
class PeaksAround {
public:
    explicit PeaksAround(int threads, bool measure = true);
    bool measured() const { return measure_; }
    // The peaks measured before the first point.
    const MachinePeaks& start() const { return before_; }
    // Call right after a point was timed: its peaks.
    MachinePeaks after_point();

private:
    int threads_;
    bool measure_;
    MachinePeaks before_;
};

// 100·achieved/peak, or 0 when the peak was not measured.
inline double percent_of(double achieved, double peak) { return peak > 0 ? 100.0 * achieved / peak : 0.0; }

// Median of a non-empty list (copies, so the caller's order is kept).
double median(std::vector<double> values);
// Linear-interpolated quantile q ∈ [0, 1] of a non-empty list.
double quantile(std::vector<double> values, double q);

}  // namespace trikv
