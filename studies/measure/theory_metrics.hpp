#pragma once
// Per-point quantities the theory is stated in (docs/theory.md), recorded beside the relative
// error of a decode point:
//   score_bound              B = max |s_ij| over the pairs of the timed attends: the polynomial
//                            method's error is a function of B (docs/math.md §2);
//   subgen_normalised_error  ‖o − o*‖₂ / (‖softmax(s)‖₂ · ‖V1⊘V2‖_op), worst over heads: the
//                            error in the units of SubGen's guarantee (docs/math.md §6), whose
//                            ε it estimates.
// The operator norm is the spectral norm of the n² × d matrix V1⊘V2 whose rows are the pair
// values v1_i ∘ v2_j: the output is o = pᵀ(V1⊘V2) for the pair weights p, exactly SubGen's
// o = pᵀV with V replaced by the pair values, so ‖o − o*‖ ≤ ‖p − p*‖₂·‖V1⊘V2‖_op is the bound
// its ε scales. It is computed without the n² rows: (V1⊘V2)ᵀ(V1⊘V2) = (V1ᵀV1) ∘ (V2ᵀV2).
#include <cstddef>

#include "studies/results/results.hpp"
#include "studies/measure/token_data.hpp"

namespace trikv {

// ‖V1⊘V2‖_op for one head's n × d value streams (row-major), in float64: the square root of
// the largest eigenvalue of (V1ᵀV1) ∘ (V2ᵀV2), by power iteration.
double pair_values_spectral_norm(const double* v1, const double* v2, std::size_t n, std::size_t d);

// Folds score_bound and subgen_normalised_error of query `query` over tokens [0, tokens) into
// `row` (maxima over calls). out, exact: [heads, d], the cache's and the exact output.
void record_theory_metrics(ResultRow& row, const TokenData& data, std::size_t query, std::size_t tokens, double scale,
                           const float* out, const double* exact);

}  // namespace trikv
