#pragma once
// Exact tensor (three-way) attention, SPEC §2–§3. A query q attends to pairs (i, j) with the
// trilinear score s_ij = scale·Σ_l q_l·k1_il·k2_jl and output Σ p_ij·(v1_i ∘ v2_j).
//
// The decode kernel never forms the pair tensors: for a block of rows i it computes
// S = (K1_block ∘ q)·K2_tileᵀ with BLAS, folds S into a per-row online softmax, accumulates
// U = P·V2_tile, and finally sums v1_i ∘ u_i across rows (SPEC §3). Transient memory is a few
// tiles per worker whatever n is; row blocks run in parallel with oneTBB.
#include <cstddef>

#include "attention/rows.hpp"
#include "attention/softmax.hpp"
#include "attention/stored_rows.hpp"
#include "framework/memory.hpp"
#include "framework/tensor.hpp"

namespace trikv {

// Tile sizes of the decode kernel. Storage that feeds it in chunks keeps chunk_rows a
// multiple of kPairTileRows so every K2/V2 tile is contiguous.
inline constexpr std::size_t kPairBlockRows = 128;  // rows i per block (and per task), at most; see pair_block_rows
inline constexpr std::size_t kPairTileRows = 256;   // rows j per GEMM tile

// One query, one head: out[d] = attention of q over pairs (i, j), i < rows(K1), j < rows(K2).
// K1/V1 and K2/V2 must have equal row counts; all views have dim = d. Scratch is charged to
// `scratch`. Requires at least one row on each side.
template <Scalar T>
void tensor_decode(const T* q, const RowsView<T>& k1, const RowsView<T>& k2, const RowsView<T>& v1,
                   const RowsView<T>& v2, T scale, T* out, MemoryMeter& scratch);

// The same over pairs (i, j) ∈ rows(K1) × rows(K2), folded into `partial` (unnormalised: max,
// normaliser, accumulator) so a cache can merge several pair sets by log-sum-exp before
// partial.finish(out). `partial` has d values and may already hold other pairs.
template <Scalar T>
void tensor_decode_partial(const T* q, const RowsView<T>& k1, const RowsView<T>& k2, const RowsView<T>& v1,
                           const RowsView<T>& v2, T scale, SoftmaxPartial<T>& partial, MemoryMeter& scratch);

// The same two over rows stored in a reduced format (attention/stored_rows.hpp; S = float,
// bf16, fp16 or std::int8_t): every K1 and V1 row and every K2/V2 tile is decoded to float in
// per-worker scratch — 2·kPairTileRows·d + d floats per worker on top of the float kernel's,
// none for S = float, which reads the storage in place — and the float kernel runs on it, so
// the scores are exact on the dequantised rows and the only extra error is the storage's.
template <class S>
void tensor_decode(const float* q, const StoredRows<S>& k1, const StoredRows<S>& k2, const StoredRows<S>& v1,
                   const StoredRows<S>& v2, float scale, float* out, MemoryMeter& scratch);
template <class S>
void tensor_decode_partial(const float* q, const StoredRows<S>& k1, const StoredRows<S>& k2, const StoredRows<S>& v1,
                           const StoredRows<S>& v2, float scale, SoftmaxPartial<float>& partial, MemoryMeter& scratch);

// Several queries at once, one head: out[r·d..] = tensor_decode of q[r·d..] over the same
// pairs, for r < queries (VAR's block step: every query of a scale sees every stored token).
// The queries' rows of K1∘q are stacked so each K2/V2 tile feeds one larger GEMM, and groups
// of queries run in parallel; the result equals per-query tensor_decode up to rounding.
template <Scalar T>
void tensor_decode_batch(const T* q, std::size_t queries, const RowsView<T>& k1, const RowsView<T>& k2,
                         const RowsView<T>& v1, const RowsView<T>& v2, T scale, T* out, MemoryMeter& scratch);
template <class S>
void tensor_decode_batch(const float* q, std::size_t queries, const StoredRows<S>& k1, const StoredRows<S>& k2,
                         const StoredRows<S>& v1, const StoredRows<S>& v2, float scale, float* out,
                         MemoryMeter& scratch);

// Whole-sequence tensor attention for one head, inputs [n, d]. Causal: query t attends the
// square [0, t]²; otherwise every query attends [0, n)². Runs the batched kernel above with a
// per-query limit on the square.
template <Scalar T>
Matrix<T> tensor_prefill(const Matrix<T>& q, const Matrix<T>& k1, const Matrix<T>& k2,
                         const Matrix<T>& v1, const Matrix<T>& v2, bool causal, T scale);

// Multi-head versions, inputs [h, n, d]; heads and queries run in parallel.
template <Scalar T>
Heads<T> tensor_prefill(const Heads<T>& q, const Heads<T>& k1, const Heads<T>& k2,
                        const Heads<T>& v1, const Heads<T>& v2, bool causal, T scale);

// The default scale of tensor attention, 1/d (SPEC §1).
inline double default_tensor_scale(std::size_t dim) { return 1.0 / static_cast<double>(dim); }

}  // namespace trikv
