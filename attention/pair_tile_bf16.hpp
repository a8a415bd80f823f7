#pragma once
// The pair-tile kernel's two GEMMs (attention/pair_tile_kernel.hpp) on bfloat16 operands with
// AVX512_BF16's VDPBF16PS: each instruction multiplies 16 lanes × 2 bf16 pairs and adds the
// two products to 16 float accumulators, twice the float FMA's multiply-adds per instruction.
// Used by the fused decode when the factor streams are stored in bf16 and the active level
// (framework/isa.hpp) is avx512bf16; accumulation stays in float and the online softmax runs
// on float scores as before (the level's pair_tile::Kernels::softmax).
//
// The reduction index runs in pairs, so the vector operands are stored as *pair panels*: for
// each 16-row lane panel and each pair m of columns (2m, 2m+1), 16 lanes of two bf16 (64
// bytes). The broadcast operand needs the same pair adjacent: K2's rows already hold (k2_j,2m,
// k2_j,2m+1) side by side; V2's tile is interleaved row pair by row pair (pack_values).
//
// Rounding: A = scale·(K1∘q) is rounded to bf16 (round to nearest even) before its GEMM, on
// top of the storage's own rounding of K1, K2, V1, V2; the caller splits the probabilities P
// into two bf16 parts (pack_pairs' residual) where one rounding would cost accuracy.
#include <cstddef>
#include <cstdint>

#include "framework/storage.hpp"

namespace trikv::pair_tile_bf16 {

// Whether the kernels run: the active level is avx512bf16.
bool available();

// Columns (2m, 2m+1) of a matrix in float lane panels (in_panel_floats floats per panel) as
// pair panels (out_panel_pairs 32-bit pairs per panel), for rows < rows and columns < cols;
// lanes past `rows` and the second half of an odd last pair are 0. `residual`: pack x − bf16(x)
// instead of x (the low part of a two-term split). `out` may be `in` when the panel sizes in
// bytes agree (pair m is written where column m was, after columns 2m, 2m+1 are read).
void pack_pairs(const float* in, std::size_t in_panel_floats, std::size_t rows, std::size_t cols,
                std::uint32_t* out, std::size_t out_panel_pairs, bool residual = false);

// V2's tile (cols × d bf16 rows) as row pairs: out[m·d + l] = (v2[2m][l], v2[2m+1][l]), the
// second 0 past cols.
void pack_values(const bf16* v2, std::size_t cols, std::size_t d, std::uint32_t* out);

// S = A·K2ᵀ: A in pair panels (d/2 pairs per panel; d even), K2 cols × d bf16 rows as stored,
// S in float lane panels of pair_tile::kMaxCols columns.
void scores(const std::uint32_t* a, std::size_t rows, const bf16* k2, std::size_t cols, std::size_t d, float* s,
            bool accumulate = false);

// U = (accumulate ? U : 0) + P·V2: P in pair panels of p_panel_pairs pairs (≥ cols / 2), V2
// from pack_values, U in float lane panels of d columns.
void mix(const std::uint32_t* p, std::size_t p_panel_pairs, std::size_t rows, const std::uint32_t* v2,
         std::size_t cols, std::size_t d, float* u, bool accumulate);

}  // namespace trikv::pair_tile_bf16
