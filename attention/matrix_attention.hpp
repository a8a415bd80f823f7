#pragma once
// Standard (matrix) softmax attention, the baseline: s_i = scale·⟨q, k_i⟩, o = Σ p_i·v_i.
// Its decode kernel is a single streaming pass (scores, online softmax and value
// accumulation fused per tile of rows), which is also exactly what the product cache needs:
// there the "keys" and "values" are the stored pair rows k1_i∘k2_j and v1_i∘v2_j.
#include <cstddef>

#include "attention/rows.hpp"
#include "attention/softmax.hpp"
#include "attention/stored_rows.hpp"
#include "framework/memory.hpp"
#include "framework/tensor.hpp"

namespace trikv {

inline constexpr std::size_t kStreamBlockRows = 512;  // rows per parallel work item
// Rows scored and accumulated (and decoded) together; also product's key/value interleave
// tile, so = kPairTileRows: its batched attends (tensor_decode_batch) then get whole GEMM tiles.
inline constexpr std::size_t kStreamTileRows = 256;

// One query, one head: out[d] = softmax(scale·K·q)ᵀ·V over all rows of k (≥ 1 row).
template <Scalar T>
void matrix_decode(const T* q, const RowsView<T>& k, const RowsView<T>& v, T scale, T* out,
                   MemoryMeter& scratch);

// The same folded into `partial` (see tensor_decode_partial); zero rows fold nothing.
template <Scalar T>
void matrix_decode_partial(const T* q, const RowsView<T>& k, const RowsView<T>& v, T scale,
                           SoftmaxPartial<T>& partial, MemoryMeter& scratch);

// The same two over rows stored in a reduced format (attention/stored_rows.hpp; S = float,
// bf16, fp16 or std::int8_t): K and V rows are decoded to float kStreamTileRows at a time
// in per-worker scratch (2·kStreamTileRows·d floats, read back from L2; none for S = float,
// which reads the storage in place), with the softmax still folded per tile.
template <class S>
void matrix_decode(const float* q, const StoredRows<S>& k, const StoredRows<S>& v, float scale, float* out,
                   MemoryMeter& scratch);
template <class S>
void matrix_decode_partial(const float* q, const StoredRows<S>& k, const StoredRows<S>& v, float scale,
                           SoftmaxPartial<float>& partial, MemoryMeter& scratch);

// Several queries at once over the same rows (VAR's block step on the product cache):
// out[r·d..] = matrix_decode of q[r·d..], r < queries. Computed as tensor attention with one
// all-ones K1 = V1 row, whose pairs (0, j) have key k_j and value v_j exactly: the batched
// tensor kernel (tensor_decode_batch) then stacks up to 256 queries into each GEMM and reads
// every K/V tile once per group of queries instead of once per query.
template <class S>
void matrix_decode_batch(const float* q, std::size_t queries, const StoredRows<S>& k, const StoredRows<S>& v,
                         float scale, float* out, MemoryMeter& scratch);

// Whole sequence, inputs [n, d] or [h, n, d]; causal: query t sees keys 0..t.
template <Scalar T>
Matrix<T> matrix_prefill(const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v, bool causal,
                         T scale);
template <Scalar T>
Heads<T> matrix_prefill(const Heads<T>& q, const Heads<T>& k, const Heads<T>& v, bool causal,
                        T scale);

// The usual scale of matrix attention, 1/sqrt(d).
double default_matrix_scale(std::size_t dim);

}  // namespace trikv
