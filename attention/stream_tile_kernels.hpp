#pragma once
// The two inner loops of the streaming decode (attention/matrix_attention.cpp, the product
// cache's kernel) on a tile of rows stored as S — float, bf16, fp16 or int8 with a float
// scale per row (framework/storage.hpp) — read as stored: each vector is converted to float
// in registers (bf16: a shift; fp16: vcvtph2ps; int8: sign-extend and vcvtdq2ps, the row
// scale applied once per row) and accumulated in float. Nothing is decoded to scratch, so a
// step reads each stored byte once and its time follows the bytes stored.
//
// One implementation per instruction-set level (framework/isa.hpp), one file each:
// stream_tile_kernels.cpp (portable, and the choice), stream_tile_kernels_avx2.cpp,
// stream_tile_kernels_avx512.cpp; the loops themselves are written once, over the level's
// vector type (stream_tile_loops.hpp).
#include <cstddef>

#include "framework/isa.hpp"
#include "framework/storage.hpp"

namespace trikv {

template <class S>
struct StreamTileKernels {
    // s[r] = scale·k_scales[r]·⟨q, k_r⟩ for the tile's rows r < rows (k: rows × d, contiguous;
    // k_scales: int8 only, else nullptr).
    void (*scores)(const float* q, const S* k, const float* k_scales, std::size_t rows, std::size_t d, float scale,
                   float* s);
    // acc[l] += Σ_r p[r]·v_scales[r]·v_r[l] for l < d (v: rows × d, contiguous).
    void (*accumulate)(const S* v, const float* v_scales, const float* p, std::size_t rows, std::size_t d,
                       float* acc);
};

// The kernels of level `isa` (which the CPU must run); avx512bf16 runs the avx512 ones (the
// stream is bound by memory reads, and bf16 dot products would round q).
template <class S>
StreamTileKernels<S> stream_tile_kernels(Isa isa);

// The storage types the stream-tile kernels take, X(S) for each.
#define TRIKV_FOR_EACH_STREAM_STORAGE(X) X(float) X(bf16) X(fp16) X(std::int8_t)

namespace stream_tile {
// The per-level sets, for the choice above (the AVX ones exist on x86-64 GCC/clang only).
template <class S> StreamTileKernels<S> portable_kernels();
template <class S> StreamTileKernels<S> avx2_kernels();
template <class S> StreamTileKernels<S> avx512_kernels();
}  // namespace stream_tile

}  // namespace trikv
