#pragma once
// The AVX-512 level's vector of 16 floats (framework/isa.hpp), for the loops written once over
// a level's vector type (attention/stream_tile_loops.hpp, attention/pair_tile_loops.hpp).
// Include it only inside that level's target region (framework/target_region.hpp), after
// <immintrin.h>, from one .cpp file: its functions are compiled for the region's level.
#include <cstddef>
#include <cstdint>

#include "framework/storage.hpp"

namespace trikv::lanes {
namespace {

struct Avx512Lanes {
    using V = __m512;
    static constexpr std::size_t kLanes = 16;
    static V zero() { return _mm512_setzero_ps(); }
    static V broadcast(float x) { return _mm512_set1_ps(x); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static float sum(V v) { return _mm512_reduce_add_ps(v); }
    // 16 vectors → one: pairs of vectors, then of 128-bit chunks, halve the partial sums each
    // step (30 shuffles and 15 adds for 16 sums).
    static V sum_each(const V* v) {
        V pairs[8], quads[4];
        for (int i = 0; i < 8; ++i)  // per 128-bit chunk: v2i_02, v2i+1_02, v2i_13, v2i+1_13 (sums of elements)
            pairs[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                                     _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
        for (int i = 0; i < 4; ++i)  // per chunk: the chunk's sums of vectors 4i … 4i+3
            quads[i] = _mm512_add_ps(_mm512_shuffle_ps(pairs[2 * i], pairs[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_ps(pairs[2 * i], pairs[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
        const V low = _mm512_add_ps(_mm512_shuffle_f32x4(quads[0], quads[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                    _mm512_shuffle_f32x4(quads[0], quads[1], _MM_SHUFFLE(3, 1, 3, 1)));
        const V high = _mm512_add_ps(_mm512_shuffle_f32x4(quads[2], quads[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm512_shuffle_f32x4(quads[2], quads[3], _MM_SHUFFLE(3, 1, 3, 1)));
        return _mm512_add_ps(_mm512_shuffle_f32x4(low, high, _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(low, high, _MM_SHUFFLE(3, 1, 3, 1)));
    }
    static V load(const float* p) { return _mm512_loadu_ps(p); }
    // bf16 is the top half of a float: widen to 32 bits and shift into place.
    static V load(const bf16* p) {
        const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
    }
    static V load(const fp16* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static V load(const std::int8_t* p) {
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
    }
    static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
    static V max(V a, V b) { return _mm512_max_ps(a, b); }
    // Masked loads: lanes at and past n read nothing and are 0.
    using Mask = __mmask16;
    static Mask first(std::size_t n) { return static_cast<Mask>(n >= 16 ? 0xffffu : (1u << n) - 1u); }
    static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
    static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
    // exp_nonpositive (attention/exp_approx.hpp) on 16 lanes: the same range reduction and
    // polynomial, with the rounding in one vrndscaleps and the 2^n scaling in one vscalefps
    // (14 vector operations; the auto-vectorised form takes about 20): the tiled softmax was
    // 13% of a d = 64 pair tile's time with it, 11% with this (trikv_dtype_micro --kernel-peaks).
    static V exp_nonpositive(V x) {
        // Below −87 (−inf included, where r is NaN) the result is masked to exactly 0, so x
        // needs no clamping.
        const Mask keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_GE_OQ);
        const V n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        V r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
        r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
        V p = _mm512_set1_ps(1.9875691500e-4f);
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
        p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
        return _mm512_maskz_scalef_ps(keep, p, n);
    }
};

}  // namespace
}  // namespace trikv::lanes
