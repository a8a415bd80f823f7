#pragma once
// Pareto fronts of a study (ann-benchmarks' rule): within a group of equal (workload, scale, n,
// d, heads, data), sort by one axis and keep the strict improvements on the other. Exact points
// (the row's `exact` column, written from the registry's is_exact, and rel_l2_error ≤ tolerance) give the (time, bytes) front; when approximate
// caches are present a second front over (time, bytes, error) takes every successful point.
#include <string>
#include <vector>

#include "studies/results/results.hpp"

namespace trikv {

struct CacheType;

// An error at most this is rounding, not approximation: float32 rounding (~1e-6) neither puts
// an exact cache off the exact front nor decides the error axis of the approximate front.
inline constexpr double kExactTolerance = 1e-4;

struct ParetoPoint {
    std::string front;  // "exact" or "approximate"
    ResultRow row;
    std::size_t index;  // of the row in pareto_fronts' input
    std::size_t group;  // 1, 2, ...: the points of a group share it
};

// The fronts compare tensor-attention caches; the standard-attention baseline (`matrix`,
// AttentionKind::matrix) computes something else and is drawn beside them, never on them.
// Rows of unknown cache types count as tensor caches.
bool is_matrix_baseline(const ResultRow& row);

// Indices into `rows` of the points not dominated in (step_ms_median, bytes). Among points
// with identical coordinates the first is kept. Ignores rows whose status is not ok.
std::vector<std::size_t> time_memory_front(const std::vector<ResultRow>& rows);

// Indices not dominated in (step_ms_median, bytes, rel_l2_error); ties keep the first. Errors
// up to kExactTolerance count as 0.
std::vector<std::size_t> time_memory_error_front(const std::vector<ResultRow>& rows);

// Both fronts for every group, groups in a fixed order, each front by memory; the second only
// for groups holding an approximate cache.
std::vector<ParetoPoint> pareto_fronts(const std::vector<ResultRow>& rows,
                                       double exact_tolerance = kExactTolerance);

// Writes pareto.csv: a `front` column, then the results columns (atomically).
void write_pareto_csv(const std::filesystem::path& path, const std::vector<ParetoPoint>& points);

}  // namespace trikv
