#include "studies/measure/theory_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attention/blas.hpp"

namespace trikv {
namespace {

// Enough for the d ≤ a few hundred of a study: the iteration stops earlier once the
// eigenvalue estimate settles to float64 rounding.
constexpr int kMaxPowerIterations = 1000;
constexpr double kPowerTolerance = 1e-13;

// Gram matrix XᵀX (d × d) of n rows.
std::vector<double> gram(const double* x, std::size_t n, std::size_t d) {
    std::vector<double> g(d * d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t a = 0; a < d; ++a)
            for (std::size_t b = 0; b < d; ++b) g[a * d + b] += x[i * d + a] * x[i * d + b];
    return g;
}

}  // namespace

double pair_values_spectral_norm(const double* v1, const double* v2, std::size_t n, std::size_t d) {
    std::vector<double> m = gram(v1, n, d);
    const std::vector<double> g2 = gram(v2, n, d);
    for (std::size_t e = 0; e < m.size(); ++e) m[e] *= g2[e];  // positive semidefinite (Schur)
    std::vector<double> x(d, 1.0 / std::sqrt(double(d))), y(d);
    double eigenvalue = 0;
    for (int iteration = 0; iteration < kMaxPowerIterations; ++iteration) {
        for (std::size_t a = 0; a < d; ++a) {
            y[a] = 0;
            for (std::size_t b = 0; b < d; ++b) y[a] += m[a * d + b] * x[b];
        }
        double norm = 0;
        for (double value : y) norm += value * value;
        norm = std::sqrt(norm);
        if (norm == 0) return 0;
        for (std::size_t a = 0; a < d; ++a) x[a] = y[a] / norm;
        const bool settled = std::abs(norm - eigenvalue) <= kPowerTolerance * norm;
        eigenvalue = norm;  // ‖Mx‖ for a unit x converges to the largest eigenvalue of PSD M
        if (settled) break;
    }
    return std::sqrt(eigenvalue);
}

void record_theory_metrics(ResultRow& row, const TokenData& data, std::size_t query, std::size_t tokens, double scale,
                           const float* out, const double* exact) {
    const std::size_t heads = data.q.shape(0), n = data.q.shape(1), d = data.q.shape(2);
    std::vector<double> scores(tokens), weighted(d);
    for (std::size_t h = 0; h < heads; ++h) {
        const double* q = data.q.data() + (h * n + query) * d;
        const double* k1 = data.k1.data() + h * n * d;
        const double* k2 = data.k2.data() + h * n * d;
        // One row of pairs (i, ·) at a time, s_i,: = scale·K2·(q ∘ k1_i) (docs/math.md §3), with
        // Σ e^(s−m) and Σ e^(2(s−m)) rescaled as the running max m grows: O(n) scratch.
        double top = -std::numeric_limits<double>::infinity(), sum = 0, sum_squares = 0;
        for (std::size_t i = 0; i < tokens; ++i) {
            for (std::size_t l = 0; l < d; ++l) weighted[l] = q[l] * k1[i * d + l];
            blas::gemv(false, int(tokens), int(d), scale, k2, int(d), weighted.data(), 0.0, scores.data());
            const double row_top = *std::max_element(scores.begin(), scores.end());
            if (row_top > top) {
                const double shrink = std::exp(top - row_top);
                sum *= shrink;
                sum_squares *= shrink * shrink;
                top = row_top;
            }
            for (double s : scores) {
                row.score_bound = std::max(row.score_bound, std::abs(s));
                const double p = std::exp(s - top);
                sum += p;
                sum_squares += p * p;
            }
        }
        const double softmax_norm = std::sqrt(sum_squares) / sum;
        const double values_norm =
            pair_values_spectral_norm(data.v1.data() + h * n * d, data.v2.data() + h * n * d, tokens, d);
        double error = 0;
        for (std::size_t l = 0; l < d; ++l) error += std::pow(double(out[h * d + l]) - exact[h * d + l], 2);
        if (softmax_norm * values_norm > 0)
            row.subgen_normalised_error =
                std::max(row.subgen_normalised_error, std::sqrt(error) / (softmax_norm * values_norm));
    }
}

}  // namespace trikv
