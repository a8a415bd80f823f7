#pragma once
// What a results row reports of its samples: step-time statistics and rates, the error of its
// outputs against float64, and the spread of per-position errors (docs/math.md §8). Shared by
// the study's measurement (measure.cpp) and `trikv prefill`, so that both fill the columns alike.
#include <cstddef>
#include <vector>

#include "studies/measure/machine_peaks.hpp"
#include "studies/results/results.hpp"

namespace trikv {

// Folds the error of `count` outputs of `width` values each into the row: relative L2 per
// query (worst kept) and the largest absolute error. A non-finite output throws trikv::Error.
void record_error(ResultRow& row, const std::vector<float>& out, const std::vector<double>& exact, std::size_t count,
                  std::size_t width);

// Per query: the relative error and the value-normalised error, from one output of `width`
// values, its exact answer and the exact answer on squared values.
struct QueryErrors {
    std::vector<double> relative, value;
    void add(const float* out, const double* exact, const double* squared, std::size_t width);
};

// The row's accuracy columns (accuracy_positions, rel_error_*, value_error_*); none for no errors.
void record_accuracy(ResultRow& row, const QueryErrors& errors);

// The positions t (query t attends tokens [0, t]) at which a point checks its accuracy:
// `count` of them (at most n), evenly spread, the last at n − 1.
std::vector<std::size_t> accuracy_positions_of(std::size_t n, std::size_t count);

// Step-time statistics, and the achieved rates of `flops` and `bytes_moved` at the median.
void record_times(ResultRow& row, const std::vector<double>& step_ms, double flops, double bytes_moved,
                  const MachinePeaks& peaks);

}  // namespace trikv
