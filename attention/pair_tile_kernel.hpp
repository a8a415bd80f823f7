#pragma once
// The register-tiled float kernel of one pair tile of the fused decode (tensor_attention.cpp,
// docs/math.md §3), for x86-64 CPUs with AVX2 and FMA or AVX-512. A block's stacked rows i (a row of
// K1∘q, one per K1 row and query) run along the vector lanes, so the block's three matrices are
// stored in lane panels: rows 16p … 16p+15 of a matrix with n columns form panel p, n × 16
// floats, column after column (lane_index). The panels are
//
//   A = scale·(K1∘q)   rows × d         S = A·K2ᵀ, then P   rows × kMaxCols (a tile of K2 rows j)
//   U = P·V2           rows × d
//
// Laid out that way neither GEMM needs a packed operand: K2 and V2 are read as stored (each
// element broadcast to every lane) and A and P are the vector operands, so no K2/V2 tile is
// copied per block — OpenBLAS packed both tiles again for every block — and the online softmax
// runs down each column with the rows in the lanes. A panel is contiguous, so its lines fall in
// every L1 set (with one transposed matrix of leading dimension 128 or 256 floats, a column's
// lines fell in 8 or 4 sets and evicted each other). Micro-tiles per level (kernels below), of
// any sizes (masked lanes, short strips).
#include <cstddef>

#include "framework/isa.hpp"

namespace trikv::pair_tile {

inline constexpr std::size_t kPanelRows = 16;  // rows per lane panel (two 8-float vectors)
inline constexpr std::size_t kMaxRows = 256;   // the most rows one block stacks
inline constexpr std::size_t kMaxCols = 256;   // K2 rows per tile, at most: S's columns

// Where element (row i, column c) of a matrix with n columns lives in its lane panels.
inline std::size_t lane_index(std::size_t i, std::size_t c, std::size_t n) {
    return (i / kPanelRows) * kPanelRows * n + c * kPanelRows + i % kPanelRows;
}
// Floats a matrix of `rows` × n takes in lane panels (rows rounded up to whole panels).
inline std::size_t panel_floats(std::size_t rows, std::size_t n) {
    return (rows + kPanelRows - 1) / kPanelRows * kPanelRows * n;
}

// Whether the kernels run: the active instruction-set level (framework/isa.hpp) is avx2 or
// above; otherwise callers use BLAS.
bool available();

// The three steps of a pair tile at one level, as function pointers a caller picks once per call.
struct Kernels {
    // S = A·K2ᵀ for rows i < rows, columns j < cols ≤ kMaxCols; K2 is cols × d, row-major.
    void (*scores)(const float* a, std::size_t rows, const float* k2, std::size_t cols, std::size_t d, float* s);
    // Online softmax of the tile, per row i over its columns j < cols (entries of −inf are pairs
    // the row may not use: probability 0): row_max[i] rises to the tile's maximum, S becomes
    // exp(s − row_max), row_norm[i] = row_norm[i]·shrink + Σ_j s, with shrink = exp(old max −
    // new max); when `rescale`, row i of U (rows × d) is multiplied by its shrink too.
    void (*softmax)(float* s, std::size_t rows, std::size_t cols, float* row_max, float* row_norm, float* u,
                    std::size_t d, bool rescale);
    // U = (accumulate ? U : 0) + P·V2 for rows i < rows; P is S's first cols columns, V2 is cols × d.
    void (*mix)(const float* p, std::size_t rows, const float* v2, std::size_t cols, std::size_t d, float* u,
                bool accumulate);
};

// The kernels of `isa` (avx2 or above, which the CPU must run): AVX2 micro-tiles of 1 panel ×
// 6 outputs (12 ymm accumulators), AVX-512 ones of 2 panels × 12 outputs (24 zmm
// accumulators, of the 32 registers) for avx512 and avx512bf16.
Kernels kernels(Isa isa);
// The per-level sets, for the choice above (defined on x86-64 GCC/clang only).
Kernels avx2_kernels();
Kernels avx512_kernels();

}  // namespace trikv::pair_tile
