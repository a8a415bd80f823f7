#pragma once
// The register-tiled float kernel of one pair tile of the fused decode (tensor_attention.cpp,
// docs/math.md §3), for x86-64 CPUs with AVX2 and FMA. A block's stacked rows i (a row of
// K1∘q, one per K1 row and query) run along the vector lanes, so the block's three matrices are
// stored transposed, row i of the maths being column i of the buffer, each with leading
// dimension ld ≥ rows:
//
//   at[l·ld + i]  A  = scale·(K1∘q)      d × rows
//   st[j·ld + i]  S  = A·K2ᵀ, then P     cols × rows  (one tile of K2 rows j)
//   ut[l·ld + i]  U  = P·V2              d × rows
//
// Laid out that way neither GEMM needs a packed operand: K2 and V2 are read as stored (each
// element broadcast to every lane) and A and P are the vector operands, so no K2/V2 tile is
// copied per block — OpenBLAS packed both tiles again for every block, and the online softmax
// runs down each column with the rows in the lanes. Micro-tile: kTileLanes rows × up to
// kTileStrip columns of S (or dimensions of U) in 12 accumulators, any sizes (masked lanes,
// short strips).
#include <cstddef>

namespace trikv::pair_tile {

// The most rows one block stacks (the buffers' leading dimension is at most this).
inline constexpr std::size_t kMaxRows = 256;

// Whether this CPU runs the kernel (AVX2 and FMA); otherwise callers use BLAS.
bool available();

// st[j·ld + i] = Σ_l k2[j·d + l]·at[l·ld + i] for i < rows, j < cols (k2 rows contiguous).
void scores(const float* at, std::size_t ld, std::size_t rows, const float* k2, std::size_t cols, std::size_t d,
            float* st);

// Online softmax of the tile, per row i over its columns j < cols (entries of −inf are pairs the
// row may not use: probability 0): row_max[i] rises to the tile's maximum, st becomes
// exp(s − row_max), row_norm[i] = row_norm[i]·shrink + Σ_j st, with shrink = exp(old max − new
// max); when `rescale`, ut's columns are multiplied by their shrink too (d × rows).
void softmax(float* st, std::size_t ld, std::size_t rows, std::size_t cols, float* row_max, float* row_norm,
             float* ut, std::size_t d, bool rescale);

// ut[l·ld + i] = (accumulate ? ut[l·ld + i] : 0) + Σ_j st[j·ld + i]·v2[j·d + l], i < rows, l < d.
void mix(const float* st, std::size_t ld, std::size_t rows, const float* v2, std::size_t cols, std::size_t d,
         float* ut, bool accumulate);

}  // namespace trikv::pair_tile
