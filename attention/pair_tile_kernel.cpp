#include "attention/pair_tile_kernel.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "attention/exp_approx.hpp"
#include "framework/isa.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

// Every function here is compiled for AVX2+FMA and called only when the active level
// (framework/isa.hpp) is avx2 or above (available()); no target_clones, so no ifunc resolver
// (TSan builds run it as well). 256-bit
// vectors: Zen 4 runs 512-bit FMAs as two halves, so the wider form would gain nothing here.
#define TRIKV_TILE_TARGET __attribute__((target("avx2,fma")))

namespace trikv::pair_tile {
namespace {

constexpr std::size_t kLanes = 8;       // floats per vector
constexpr std::size_t kTileStrip = 6;   // outputs per micro-tile: 6 × 2 accumulators + 3 operands ≤ 16 registers

[[gnu::always_inline]] TRIKV_TILE_TARGET inline __m256i first_lanes(std::size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <bool kFull>
[[gnu::always_inline]] TRIKV_TILE_TARGET inline __m256 load(const float* p, __m256i mask) {
    if constexpr (kFull) return _mm256_loadu_ps(p);
    else return _mm256_maskload_ps(p, mask);
}

// One micro-tile: for outputs r < R and the 16 lanes of a panel,
//   c[r·16 + lane] = (accumulate ? c : 0) + Σ_k b[k·b_step_k + r·b_step_r]·a[k·16 + lane].
// Unless kFull, A's lanes past the panel's rows are masked off on loading (they may hold
// anything), so those lanes of C get 0 (or keep their value when accumulating): whole vectors
// are stored, and every lane of C is defined once written.
template <std::size_t R, bool kFull>
[[gnu::always_inline]] TRIKV_TILE_TARGET inline void micro_tile(std::size_t k_count, const float* a, const float* b,
                                                                std::size_t b_step_k, std::size_t b_step_r, float* c,
                                                                bool accumulate, __m256i low, __m256i high) {
    constexpr std::size_t lda = kPanelRows, ldc = kPanelRows;
    __m256 acc[R][2];
    for (std::size_t r = 0; r < R; ++r) {
        acc[r][0] = accumulate ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();
        acc[r][1] = accumulate ? _mm256_loadu_ps(c + r * ldc + kLanes) : _mm256_setzero_ps();
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
        _mm256_storeu_ps(c + r * ldc, acc[r][0]);
        _mm256_storeu_ps(c + r * ldc + kLanes, acc[r][1]);
    }
}

// All `outputs` of one panel, kTileStrip at a time, then the short strip.
template <bool kFull>
[[gnu::always_inline]] TRIKV_TILE_TARGET inline void panel(std::size_t outputs, std::size_t k_count, const float* a,
                                                           const float* b, std::size_t b_step_k, std::size_t b_step_r,
                                                           float* c, bool accumulate, __m256i low, __m256i high) {
    std::size_t o = 0;
    for (; o + kTileStrip <= outputs; o += kTileStrip)
        micro_tile<kTileStrip, kFull>(k_count, a, b + o * b_step_r, b_step_k, b_step_r, c + o * kPanelRows,
                                      accumulate, low, high);
    const float* bo = b + o * b_step_r;
    float* co = c + o * kPanelRows;
    switch (outputs - o) {
        case 0: break;
        case 1: micro_tile<1, kFull>(k_count, a, bo, b_step_k, b_step_r, co, accumulate, low, high); break;
        case 2: micro_tile<2, kFull>(k_count, a, bo, b_step_k, b_step_r, co, accumulate, low, high); break;
        case 3: micro_tile<3, kFull>(k_count, a, bo, b_step_k, b_step_r, co, accumulate, low, high); break;
        case 4: micro_tile<4, kFull>(k_count, a, bo, b_step_k, b_step_r, co, accumulate, low, high); break;
        case 5: micro_tile<5, kFull>(k_count, a, bo, b_step_k, b_step_r, co, accumulate, low, high); break;
        default: std::abort();  // outputs − o < kTileStrip
    }
}

// The product both GEMMs are, on lane panels: C (+)= A·op(B) with C[i][o] = Σ_k A[i][k]·
// b[k·b_step_k + o·b_step_r] for rows i < rows and outputs o < outputs; A has a_cols columns
// (k < k_count), C has c_cols. One panel of A at a time: it stays in L1 while every output
// strip runs over it.
TRIKV_TILE_TARGET void lane_product(std::size_t rows, std::size_t outputs, std::size_t k_count, const float* a,
                                    std::size_t a_cols, const float* b, std::size_t b_step_k, std::size_t b_step_r,
                                    float* c, std::size_t c_cols, bool accumulate) {
    const __m256i all = _mm256_set1_epi32(-1);
    for (std::size_t i0 = 0; i0 < rows; i0 += kPanelRows) {
        const std::size_t width = std::min(kPanelRows, rows - i0);
        const float* a_panel = a + i0 * a_cols;
        float* c_panel = c + i0 * c_cols;
        if (width == kPanelRows) {
            panel<true>(outputs, k_count, a_panel, b, b_step_k, b_step_r, c_panel, accumulate, all, all);
        } else {
            const __m256i low = first_lanes(std::min(width, kLanes));
            const __m256i high = first_lanes(width > kLanes ? width - kLanes : 0);
            panel<false>(outputs, k_count, a_panel, b, b_step_k, b_step_r, c_panel, accumulate, low, high);
        }
    }
}

}  // namespace

bool available() { return active_isa() >= Isa::avx2; }

void scores(const float* a, std::size_t rows, const float* k2, std::size_t cols, std::size_t d, float* s) {
    lane_product(rows, cols, d, a, d, k2, 1, d, s, kMaxCols, false);
}

void mix(const float* p, std::size_t rows, const float* v2, std::size_t cols, std::size_t d, float* u,
         bool accumulate) {
    lane_product(rows, d, cols, p, kMaxCols, v2, d, 1, u, d, accumulate);
}

// Plain loops with a panel's 16 rows innermost: GCC vectorises each across the lanes for AVX2.
// Lanes past `rows` in the last panel are computed too (finite: lane_product wrote them), and
// never read back by the caller: the loops stay whole vectors.
TRIKV_TILE_TARGET void softmax(float* s, std::size_t rows, std::size_t cols, float* row_max, float* row_norm,
                               float* u, std::size_t d, bool rescale) {
    constexpr float none = -std::numeric_limits<float>::infinity();
    for (std::size_t i0 = 0; i0 < rows; i0 += kPanelRows) {
        const std::size_t width = std::min(kPanelRows, rows - i0);
        alignas(32) float top[kPanelRows];
        float shift[kPanelRows], shrink[kPanelRows], sum[kPanelRows];
        for (std::size_t i = 0; i < kPanelRows; ++i) top[i] = i < width ? row_max[i0 + i] : none, sum[i] = 0.0f;
        float* panel = s + i0 * kMaxCols;
        // The running max in two vectors: GCC left the plain loop's compare-and-select scalar.
        __m256 top_low = _mm256_load_ps(top), top_high = _mm256_load_ps(top + kLanes);
        for (std::size_t j = 0; j < cols; ++j) {
            top_low = _mm256_max_ps(_mm256_loadu_ps(panel + j * kPanelRows), top_low);
            top_high = _mm256_max_ps(_mm256_loadu_ps(panel + j * kPanelRows + kLanes), top_high);
        }
        _mm256_store_ps(top, top_low);
        _mm256_store_ps(top + kLanes, top_high);
        for (std::size_t i = 0; i < kPanelRows; ++i) {
            shift[i] = top[i] == none ? 0.0f : top[i];  // no usable pair yet: every exp is then 0
            shrink[i] = exp_nonpositive((i < width ? row_max[i0 + i] : none) - shift[i]);
        }
        for (std::size_t j = 0; j < cols; ++j)
            for (std::size_t i = 0; i < kPanelRows; ++i) {
                const float e = exp_nonpositive(panel[j * kPanelRows + i] - shift[i]);
                panel[j * kPanelRows + i] = e;
                sum[i] += e;
            }
        for (std::size_t i = 0; i < width; ++i) {
            row_norm[i0 + i] = row_norm[i0 + i] * shrink[i] + sum[i];
            row_max[i0 + i] = top[i];
        }
        if (!rescale) continue;
        float* u_panel = u + i0 * d;
        for (std::size_t l = 0; l < d; ++l)
            for (std::size_t i = 0; i < kPanelRows; ++i) u_panel[l * kPanelRows + i] *= shrink[i];
    }
}

}  // namespace trikv::pair_tile

#else  // not x86-64 GCC/Clang: the kernel is never chosen (available() is false)

namespace trikv::pair_tile {
bool available() { return false; }
void scores(const float*, std::size_t, const float*, std::size_t, std::size_t, float*) { std::abort(); }
void softmax(float*, std::size_t, std::size_t, float*, float*, float*, std::size_t, bool) { std::abort(); }
void mix(const float*, std::size_t, const float*, std::size_t, std::size_t, float*, bool) { std::abort(); }
}  // namespace trikv::pair_tile

#endif
