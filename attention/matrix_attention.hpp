#pragma once
// Standard (matrix) softmax attention, the baseline: s_i = scale·⟨q, k_i⟩, o = Σ p_i·v_i.
// Its decode kernel is a single streaming pass (scores, online softmax and value
// accumulation fused per tile of rows), which is also exactly what the product cache needs:
// there the "keys" and "values" are the stored pair rows k1_i∘k2_j and v1_i∘v2_j.
#include <cstddef>

#include "attention/softmax.hpp"
#include "attention/stored_rows.hpp"
#include "framework/memory.hpp"
#include "framework/tensor.hpp"

namespace trikv {

inline constexpr std::size_t kStreamBlockRows = 512;  // rows per parallel work item
// Rows scored and accumulated (and decoded) together; also product's key/value interleave
// tile, so = kPairTileRows: its attends of several queries (stacked GEMMs through the tensor
// kernel) then get whole GEMM tiles.
inline constexpr std::size_t kStreamTileRows = 256;

// Rows come as StoredRows<S> and are computed in ComputeType<S>, as for tensor attention
// (attention/tensor_attention.hpp): reduced formats decode K and V kStreamTileRows rows at a
// time in per-worker scratch (2·kStreamTileRows·d floats, read back from L2; none for float
// and double, which are read in place), with the softmax still folded per tile.

// `count` queries, one head: out[r·d..] = softmax(scale·K·q_r)ᵀ·V over all rows of k (≥ 1
// row), r < count. One query is one streaming pass. Several queries sharing the rows (VAR's
// block step on the product cache; a grouped-query head's g query heads) run as tensor
// attention with one all-ones K1 = V1 row, whose pairs (0, j) have key k_j and value v_j
// exactly: the batched tensor kernel then stacks up to 256 queries into each GEMM and reads
// every K/V tile once per group of queries instead of once per query. Each query's result
// equals count = 1 on it up to rounding.
template <class S>
void matrix_decode(std::size_t count, const ComputeType<S>* q, const StoredRows<S>& k, const StoredRows<S>& v,
                   ComputeType<S> scale, ComputeType<S>* out, MemoryMeter& scratch);

// One query folded into `partial` (see tensor_decode_partial); zero rows fold nothing.
template <class S>
void matrix_decode_partial(const ComputeType<S>* q, const StoredRows<S>& k, const StoredRows<S>& v,
                           ComputeType<S> scale, SoftmaxPartial<ComputeType<S>>& partial, MemoryMeter& scratch);

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
