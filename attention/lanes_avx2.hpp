#pragma once
// The AVX2 level's vector of 8 floats (framework/isa.hpp), for the loops written once over a
// level's vector type (attention/stream_tile_loops.hpp, attention/pair_tile_loops.hpp).
// Include it only inside that level's target region (framework/target_region.hpp), after
// <immintrin.h>, from one .cpp file: its functions are compiled for the region's level.
#include <cstddef>
#include <cstdint>

#include "framework/storage.hpp"

namespace trikv::lanes {
namespace {

struct Avx2Lanes {
    using V = __m256;
    static constexpr std::size_t kLanes = 8;
    static V zero() { return _mm256_setzero_ps(); }
    static V broadcast(float x) { return _mm256_set1_ps(x); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static float sum(V v) {
        __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        x = _mm_add_ps(x, _mm_movehl_ps(x, x));
        return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
    }
    // 8 vectors → one: horizontal adds within 128-bit halves, then the halves added.
    static V sum_each(const V* v) {
        const V low = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
        const V high = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
        return _mm256_add_ps(_mm256_permute2f128_ps(low, high, 0x20), _mm256_permute2f128_ps(low, high, 0x31));
    }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static V load(const bf16* p) {  // as in AVX-512: widen, shift into a float's top half
        const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
    }
    static V load(const fp16* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static V load(const std::int8_t* p) {
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    }
    static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
    static V max(V a, V b) { return _mm256_max_ps(a, b); }
    // Masked loads: lanes at and past n read nothing and are 0.
    using Mask = __m256i;
    static Mask first(std::size_t n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static V load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
};

}  // namespace
}  // namespace trikv::lanes
