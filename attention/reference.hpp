#pragma once
// The ground truth: plain loops over pairs in float64, written for obviousness, not speed.
// Every kernel and cache is tested against these (the role hnswlib's brute force plays).
#include <cstddef>

#include "attention/score_variant.hpp"
#include "framework/tensor.hpp"

namespace trikv::reference {

// Tensor attention of q over pairs (i, j) with i, j < rows (two passes: max, then sums), with
// the score of `variant` (docs/math.md §9), each term written out as published.
Vector<double> tensor_decode(const Vector<double>& q, const Matrix<double>& k1,
                             const Matrix<double>& k2, const Matrix<double>& v1,
                             const Matrix<double>& v2, std::size_t rows, double scale,
                             ScoreVariant variant = ScoreVariant::trilinear);
// The same over the rectangle of pairs i < rows1, j < rows2 (windowed attention: rows1 = w1
// rows of K1/V1, rows2 = w2 of K2/V2).
Vector<double> tensor_decode(const Vector<double>& q, const Matrix<double>& k1,
                             const Matrix<double>& k2, const Matrix<double>& v1,
                             const Matrix<double>& v2, std::size_t rows1, std::size_t rows2, double scale,
                             ScoreVariant variant = ScoreVariant::trilinear);

// The 2-simplicial layer's decode as docs/math.md §9 states it: q is [heads, d]; k1, k2, v1, v2
// are [kv_heads, rows, d]; query head h reads kv head h / (heads / kv_heads); k2 + k2_bias and
// v2 + v2_bias replace k2 and v2 (0: no shift). Returns [heads, d].
Matrix<double> simplicial_decode(const Matrix<double>& q, const Heads<double>& k1, const Heads<double>& k2,
                                 const Heads<double>& v1, const Heads<double>& v2, std::size_t rows, double scale,
                                 ScoreVariant variant, double k2_bias, double v2_bias);

// Every query of one head; causal: query t uses rows 0..t.
Matrix<double> tensor_prefill(const Matrix<double>& q, const Matrix<double>& k1,
                              const Matrix<double>& k2, const Matrix<double>& v1,
                              const Matrix<double>& v2, bool causal, double scale);

// Matrix attention of q over rows 0..rows−1.
Vector<double> matrix_decode(const Vector<double>& q, const Matrix<double>& k,
                             const Matrix<double>& v, std::size_t rows, double scale);

Matrix<double> matrix_prefill(const Matrix<double>& q, const Matrix<double>& k,
                              const Matrix<double>& v, bool causal, double scale);

}  // namespace trikv::reference
