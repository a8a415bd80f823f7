#include "attention/pair_tile_kernel.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "attention/exp_approx.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

// Every function here is compiled for AVX2+FMA and called only when the CPU has both
// (available()); no target_clones, so no ifunc resolver (TSan builds run it as well). 256-bit
// vectors: Zen 4 runs 512-bit FMAs as two halves, so the wider form would gain nothing here.
#define TRIKV_TILE_TARGET __attribute__((target("avx2,fma")))

namespace trikv::pair_tile {
namespace {

constexpr std::size_t kLanes = 8;       // floats per vector
constexpr std::size_t kTileLanes = 16;  // rows i per micro-tile: two vectors
constexpr std::size_t kTileStrip = 6;   // outputs per micro-tile: 6 × 2 accumulators + 3 operands ≤ 16 registers

TRIKV_TILE_TARGET [[gnu::always_inline]] inline __m256i first_lanes(std::size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <bool kFull>
TRIKV_TILE_TARGET [[gnu::always_inline]] inline __m256 load(const float* p, __m256i mask) {
    if constexpr (kFull) return _mm256_loadu_ps(p);
    else return _mm256_maskload_ps(p, mask);
}

template <bool kFull>
TRIKV_TILE_TARGET [[gnu::always_inline]] inline void store(float* p, __m256 x, __m256i mask) {
    if constexpr (kFull) _mm256_storeu_ps(p, x);
    else _mm256_maskstore_ps(p, mask, x);
}

// One micro-tile: for outputs r < R and the 16 lanes from `a` (masked unless kFull),
//   c[r·ldc + lane] = (accumulate ? c : 0) + Σ_k b[k·b_step_k + r·b_step_r]·a[k·lda + lane].
template <std::size_t R, bool kFull>
TRIKV_TILE_TARGET [[gnu::always_inline]] inline void micro_tile(std::size_t k_count, const float* a, std::size_t lda,
                                                                const float* b, std::size_t b_step_k,
                                                                std::size_t b_step_r, float* c, std::size_t ldc,
                                                                bool accumulate, __m256i low, __m256i high) {
    __m256 acc[R][2];
    for (std::size_t r = 0; r < R; ++r) {
        acc[r][0] = accumulate ? load<kFull>(c + r * ldc, low) : _mm256_setzero_ps();
        acc[r][1] = accumulate ? load<kFull>(c + r * ldc + kLanes, high) : _mm256_setzero_ps();
    }
    for (std::size_t k = 0; k < k_count; ++k) {
        const __m256 a0 = load<kFull>(a + k * lda, low), a1 = load<kFull>(a + k * lda + kLanes, high);
        const float* bk = b + k * b_step_k;
#pragma GCC unroll 6
        for (std::size_t r = 0; r < R; ++r) {
            const __m256 x = _mm256_broadcast_ss(bk + r * b_step_r);
            acc[r][0] = _mm256_fmadd_ps(x, a0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, a1, acc[r][1]);
        }
    }
    for (std::size_t r = 0; r < R; ++r) {
        store<kFull>(c + r * ldc, acc[r][0], low);
        store<kFull>(c + r * ldc + kLanes, acc[r][1], high);
    }
}

// All `outputs` of one 16-lane panel, kTileStrip at a time, then the short strip.
template <bool kFull>
TRIKV_TILE_TARGET [[gnu::always_inline]] inline void panel(std::size_t outputs, std::size_t k_count, const float* a,
                                                           std::size_t lda, const float* b, std::size_t b_step_k,
                                                           std::size_t b_step_r, float* c, std::size_t ldc,
                                                           bool accumulate, __m256i low, __m256i high) {
    std::size_t o = 0;
    for (; o + kTileStrip <= outputs; o += kTileStrip)
        micro_tile<kTileStrip, kFull>(k_count, a, lda, b + o * b_step_r, b_step_k, b_step_r, c + o * ldc, ldc,
                                      accumulate, low, high);
    const float* bo = b + o * b_step_r;
    float* co = c + o * ldc;
    switch (outputs - o) {
        case 0: break;
        case 1: micro_tile<1, kFull>(k_count, a, lda, bo, b_step_k, b_step_r, co, ldc, accumulate, low, high); break;
        case 2: micro_tile<2, kFull>(k_count, a, lda, bo, b_step_k, b_step_r, co, ldc, accumulate, low, high); break;
        case 3: micro_tile<3, kFull>(k_count, a, lda, bo, b_step_k, b_step_r, co, ldc, accumulate, low, high); break;
        case 4: micro_tile<4, kFull>(k_count, a, lda, bo, b_step_k, b_step_r, co, ldc, accumulate, low, high); break;
        case 5: micro_tile<5, kFull>(k_count, a, lda, bo, b_step_k, b_step_r, co, ldc, accumulate, low, high); break;
        default: std::abort();  // outputs − o < kTileStrip
    }
}

// The product both GEMMs are: c[o·ldc + i] (+)= Σ_k b[k·b_step_k + o·b_step_r]·a[k·lda + i] for
// lanes i < rows and outputs o < outputs; one 16-lane panel of `a` at a time (it stays in L1
// while every output strip runs over it).
TRIKV_TILE_TARGET void lane_product(std::size_t rows, std::size_t outputs, std::size_t k_count, const float* a,
                                    std::size_t lda, const float* b, std::size_t b_step_k, std::size_t b_step_r,
                                    float* c, std::size_t ldc, bool accumulate) {
    const __m256i all = _mm256_set1_epi32(-1);
    for (std::size_t i0 = 0; i0 < rows; i0 += kTileLanes) {
        const std::size_t width = std::min(kTileLanes, rows - i0);
        if (width == kTileLanes) {
            panel<true>(outputs, k_count, a + i0, lda, b, b_step_k, b_step_r, c + i0, ldc, accumulate, all, all);
        } else {
            const __m256i low = first_lanes(std::min(width, kLanes));
            const __m256i high = first_lanes(width > kLanes ? width - kLanes : 0);
            panel<false>(outputs, k_count, a + i0, lda, b, b_step_k, b_step_r, c + i0, ldc, accumulate, low, high);
        }
    }
}

}  // namespace

bool available() {
    static const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cpu;
}

void scores(const float* at, std::size_t ld, std::size_t rows, const float* k2, std::size_t cols, std::size_t d,
            float* st) {
    lane_product(rows, cols, d, at, ld, k2, 1, d, st, ld, false);
}

void mix(const float* st, std::size_t ld, std::size_t rows, const float* v2, std::size_t cols, std::size_t d,
         float* ut, bool accumulate) {
    lane_product(rows, d, cols, st, ld, v2, d, 1, ut, ld, accumulate);
}

// Plain loops with the rows innermost: GCC vectorises each across the lanes for AVX2.
TRIKV_TILE_TARGET void softmax(float* st, std::size_t ld, std::size_t rows, std::size_t cols, float* row_max,
                               float* row_norm, float* ut, std::size_t d, bool rescale) {
    constexpr float none = -std::numeric_limits<float>::infinity();
    alignas(32) float top[kMaxRows], shift[kMaxRows], shrink[kMaxRows], sum[kMaxRows];
    for (std::size_t i = 0; i < rows; ++i) top[i] = row_max[i], sum[i] = 0.0f;
    for (std::size_t j = 0; j < cols; ++j) {
        const float* s = st + j * ld;
        for (std::size_t i = 0; i < rows; ++i) top[i] = s[i] > top[i] ? s[i] : top[i];
    }
    for (std::size_t i = 0; i < rows; ++i) {
        shift[i] = top[i] == none ? 0.0f : top[i];  // no usable pair yet: every exp is then 0
        shrink[i] = exp_nonpositive(row_max[i] - shift[i]);
    }
    for (std::size_t j = 0; j < cols; ++j) {
        float* s = st + j * ld;
        for (std::size_t i = 0; i < rows; ++i) {
            const float e = exp_nonpositive(s[i] - shift[i]);
            s[i] = e;
            sum[i] += e;
        }
    }
    for (std::size_t i = 0; i < rows; ++i) row_norm[i] = row_norm[i] * shrink[i] + sum[i], row_max[i] = top[i];
    if (!rescale) return;
    for (std::size_t l = 0; l < d; ++l) {
        float* u = ut + l * ld;
        for (std::size_t i = 0; i < rows; ++i) u[i] *= shrink[i];
    }
}

}  // namespace trikv::pair_tile

#else  // not x86-64 GCC/Clang: the kernel is never chosen (available() is false)

namespace trikv::pair_tile {
bool available() { return false; }
void scores(const float*, std::size_t, std::size_t, const float*, std::size_t, std::size_t, float*) { std::abort(); }
void softmax(float*, std::size_t, std::size_t, std::size_t, float*, float*, float*, std::size_t, bool) { std::abort(); }
void mix(const float*, std::size_t, std::size_t, const float*, std::size_t, std::size_t, float*, bool) { std::abort(); }
}  // namespace trikv::pair_tile

#endif
