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

// Median of a non-empty list (copies, so the caller's order is kept).
double median(std::vector<double> values);
// Linear-interpolated quantile q ∈ [0, 1] of a non-empty list.
double quantile(std::vector<double> values, double q);

}  // namespace trikv
