#pragma once
// Exact tensor (three-way) attention, docs/math.md §2–§3. A query q attends to pairs (i, j) with the
// trilinear score s_ij = scale·Σ_l q_l·k1_il·k2_jl and output Σ p_ij·(v1_i ∘ v2_j).
//
// The decode kernel never forms the pair tensors: for a block of rows i it computes
// S = (K1_block ∘ q)·K2_tileᵀ with BLAS, folds S into a per-row online softmax, accumulates
// U = P·V2_tile, and finally sums v1_i ∘ u_i across rows (docs/math.md §3). Transient memory is a few
// tiles per worker whatever n is; row blocks run in parallel with oneTBB.
#include <cstddef>

#include "attention/score_variant.hpp"
#include "attention/softmax.hpp"
#include "attention/stored_rows.hpp"
#include "framework/memory.hpp"
#include "framework/tensor.hpp"

namespace trikv {

// Tile sizes of the decode kernel. Storage that feeds it in chunks keeps chunk_rows a
// multiple of kPairTileRows so every K2/V2 tile is contiguous.
inline constexpr std::size_t kPairBlockRows = 128;  // rows i per block (and per task), at most; see pair_block_rows
inline constexpr std::size_t kPairTileRows = 256;   // rows j per GEMM tile

// Every entry point takes rows as StoredRows<S> (attention/stored_rows.hpp; S = float,
// double, bf16, fp16 or std::int8_t; plain float or double rows wrap with StoredRows::plain or
// ::contiguous) and computes in ComputeType<S>: float and double storage is read in place;
// reduced formats decode each block's K1 and V1 rows and every K2/V2 tile to float in per-worker
// scratch — 2·kPairTileRows·d floats per worker on top of the float kernel's — so the
// scores are exact on the dequantised rows and the only extra error is the storage's.

// `count` queries, one head: out[r·d..] = attention of q[r·d..] over pairs (i, j),
// i < rows(K1), j < rows(K2), for r < count. K1/V1 and K2/V2 must have equal row counts; all
// have dim = d; at least one row on each side. Scratch is charged to `scratch`. Queries that
// share the keys are served together (VAR's block step; a grouped-query head's g query heads
// over their one kv head): their rows of K1∘q are stacked so each K2/V2 tile feeds one larger
// GEMM, and groups of queries run in parallel. Each query's result equals count = 1 on it up
// to rounding. `variant` picks the score (attention/score_variant.hpp): strassen stacks the
// rows of scale·K1 instead and adds the query's row and column terms to each tile; rank1
// skips the pair GEMM and keeps only those terms (exact, but O(n²d) where the rank1 cache is
// O(nd)).
template <class S>
void tensor_decode(std::size_t count, const ComputeType<S>* q, const StoredRows<S>& k1, const StoredRows<S>& k2,
                   const StoredRows<S>& v1, const StoredRows<S>& v2, ComputeType<S> scale, ComputeType<S>* out,
                   MemoryMeter& scratch, ScoreVariant variant = ScoreVariant::trilinear);

// One query over pairs (i, j) ∈ rows(K1) × rows(K2), folded into `partial` (unnormalised:
// max, normaliser, accumulator) so a cache can merge several pair sets by log-sum-exp before
// partial.finish(out). `partial` has d values and may already hold other pairs; no pairs fold
// nothing.
template <class S>
void tensor_decode_partial(const ComputeType<S>* q, const StoredRows<S>& k1, const StoredRows<S>& k2,
                           const StoredRows<S>& v1, const StoredRows<S>& v2, ComputeType<S> scale,
                           SoftmaxPartial<ComputeType<S>>& partial, MemoryMeter& scratch,
                           ScoreVariant variant = ScoreVariant::trilinear);

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

// The pair-tile path is chosen once per call from the active instruction-set level
// (framework/isa.hpp): the register-tiled kernels at avx2 and above, two BLAS GEMMs per tile at
// portable — `IsaOverride(Isa::portable)` is how the tests and the micro-benchmark run the
// BLAS path on any machine.

// The default scale of tensor attention, 1/d (docs/math.md §1).
inline double default_tensor_scale(std::size_t dim) { return 1.0 / static_cast<double>(dim); }

}  // namespace trikv
