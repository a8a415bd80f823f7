#include "attention/pair_tile_bf16.hpp"

#include <cstdlib>

#include "attention/pair_tile_kernel.hpp"
#include "framework/isa.hpp"

namespace trikv::pair_tile_bf16 {
bool available() { return active_isa() >= Isa::avx512bf16; }
}  // namespace trikv::pair_tile_bf16

#if defined(__x86_64__) && defined(__GNUC__)
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's AVX-512 headers (stream_tile_kernels_avx512.cpp)
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "framework/target_region.hpp"

TRIKV_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")

namespace trikv::pair_tile_bf16 {
namespace {

using pair_tile::kPanelRows;
constexpr std::size_t kStrip = 12;  // outputs per micro-tile: 12 accumulators of the 32 zmm

// Two float vectors as 16 bf16 pairs (lo_i, hi_i), rounded to nearest even.
inline __m512i interleave_bf16(__m512 lo, __m512 hi) {
    const __m512i halves = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);  // lo_0..lo_15, hi_0..hi_15
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                           6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(order, halves);
}

// x rounded to bf16 (nearest even), as a float.
inline __m512 rounded(__m512 x) {
    const __m256i bits = (__m256i)_mm512_cvtneps_pbh(x);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}

// c[o·16 + lane] (+)= Σ_m dot(a pair m of the lane, b pair at b[m·b_step_m + o·b_step_o]) for
// o < R: one VDPBF16PS per output and pair.
template <std::size_t R>
inline void micro_tile(std::size_t pairs, const std::uint32_t* a, const std::uint32_t* b, std::size_t b_step_m,
                       std::size_t b_step_o, float* c, bool accumulate) {
    __m512 acc[R];
    for (std::size_t r = 0; r < R; ++r) acc[r] = accumulate ? _mm512_loadu_ps(c + r * kPanelRows) : _mm512_setzero_ps();
    for (std::size_t m = 0; m < pairs; ++m) {
        const __m512bh x = (__m512bh)_mm512_loadu_si512(a + m * kPanelRows);
        const std::uint32_t* bm = b + m * b_step_m;
        for (std::size_t r = 0; r < R; ++r) {
            std::int32_t pair;  // memcpy: K2's pairs are bf16 storage, not uint32 objects
            std::memcpy(&pair, bm + r * b_step_o, sizeof pair);
            const __m512bh y = (__m512bh)_mm512_set1_epi32(pair);
            acc[r] = _mm512_dpbf16_ps(acc[r], x, y);
        }
    }
    for (std::size_t r = 0; r < R; ++r) _mm512_storeu_ps(c + r * kPanelRows, acc[r]);
}

// Every panel of A against all outputs, kStrip at a time, then the short strip.
void lane_product(std::size_t rows, std::size_t outputs, std::size_t pairs, const std::uint32_t* a,
                  std::size_t a_panel_pairs, const std::uint32_t* b, std::size_t b_step_m, std::size_t b_step_o,
                  float* c, std::size_t c_panel_floats, bool accumulate) {
    for (std::size_t i0 = 0; i0 < rows; i0 += kPanelRows) {
        const std::uint32_t* ap = a + i0 / kPanelRows * a_panel_pairs;
        float* cp = c + i0 / kPanelRows * c_panel_floats;
        std::size_t o = 0;
        for (; o + kStrip <= outputs; o += kStrip)
            micro_tile<kStrip>(pairs, ap, b + o * b_step_o, b_step_m, b_step_o, cp + o * kPanelRows, accumulate);
        const std::uint32_t* bo = b + o * b_step_o;
        float* co = cp + o * kPanelRows;
        switch (outputs - o) {
            case 0: break;
            case 1: micro_tile<1>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 2: micro_tile<2>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 3: micro_tile<3>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 4: micro_tile<4>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 5: micro_tile<5>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 6: micro_tile<6>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 7: micro_tile<7>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 8: micro_tile<8>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 9: micro_tile<9>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 10: micro_tile<10>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            case 11: micro_tile<11>(pairs, ap, bo, b_step_m, b_step_o, co, accumulate); break;
            default: std::abort();  // outputs − o < kStrip
        }
    }
}

}  // namespace

void pack_pairs(const float* in, std::size_t in_panel_floats, std::size_t rows, std::size_t cols, std::uint32_t* out,
                std::size_t out_panel_pairs, bool residual) {
    for (std::size_t i0 = 0; i0 < rows; i0 += kPanelRows) {
        const std::size_t width = std::min(kPanelRows, rows - i0);
        const __mmask16 lanes = static_cast<__mmask16>((1u << width) - 1u);
        const float* from = in + i0 / kPanelRows * in_panel_floats;
        std::uint32_t* to = out + i0 / kPanelRows * out_panel_pairs;
        for (std::size_t m = 0; 2 * m < cols; ++m) {
            __m512 lo = _mm512_maskz_loadu_ps(lanes, from + 2 * m * kPanelRows);
            __m512 hi =
                2 * m + 1 < cols ? _mm512_maskz_loadu_ps(lanes, from + (2 * m + 1) * kPanelRows) : _mm512_setzero_ps();
            if (residual) lo = _mm512_sub_ps(lo, rounded(lo)), hi = _mm512_sub_ps(hi, rounded(hi));
            _mm512_storeu_si512(to + m * kPanelRows, interleave_bf16(lo, hi));
        }
    }
}

void pack_values(const bf16* v2, std::size_t cols, std::size_t d, std::uint32_t* out) {
    const auto* bits = reinterpret_cast<const std::uint16_t*>(v2);
    // Halves of (row a, row b) interleaved: lanes 0–15 of each, then lanes 16–31.
    const __m512i low = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8, 39, 7, 38, 6,
                                         37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i high = _mm512_add_epi16(low, _mm512_set1_epi16(16));
    for (std::size_t m = 0; 2 * m < cols; ++m) {
        const std::uint16_t* a = bits + 2 * m * d;
        const std::uint16_t* b = 2 * m + 1 < cols ? a + d : nullptr;
        std::uint32_t* to = out + m * d;
        std::size_t l = 0;
        for (; l + 32 <= d; l += 32) {
            const __m512i x = _mm512_loadu_si512(a + l), y = b ? _mm512_loadu_si512(b + l) : _mm512_setzero_si512();
            _mm512_storeu_si512(to + l, _mm512_permutex2var_epi16(x, low, y));
            _mm512_storeu_si512(to + l + 16, _mm512_permutex2var_epi16(x, high, y));
        }
        for (; l < d; ++l) to[l] = a[l] | (b ? static_cast<std::uint32_t>(b[l]) << 16 : 0u);
    }
}

void scores(const std::uint32_t* a, std::size_t rows, const bf16* k2, std::size_t cols, std::size_t d, float* s,
            bool accumulate) {
    std::uint32_t const* pairs = reinterpret_cast<const std::uint32_t*>(k2);  // (k2_j,2m, k2_j,2m+1) at j·d/2 + m
    lane_product(rows, cols, d / 2, a, kPanelRows * (d / 2), pairs, 1, d / 2, s, kPanelRows * pair_tile::kMaxCols,
                 accumulate);
}

void mix(const std::uint32_t* p, std::size_t p_panel_pairs, std::size_t rows, const std::uint32_t* v2,
         std::size_t cols, std::size_t d, float* u, bool accumulate) {
    lane_product(rows, d, (cols + 1) / 2, p, p_panel_pairs, v2, d, 1, u, kPanelRows * d, accumulate);
}

}  // namespace trikv::pair_tile_bf16

TRIKV_TARGET_REGION_END

#else  // not x86-64: available() is false, nothing else is called

namespace trikv::pair_tile_bf16 {
void pack_pairs(const float*, std::size_t, std::size_t, std::size_t, std::uint32_t*, std::size_t, bool) { std::abort(); }
void pack_values(const bf16*, std::size_t, std::size_t, std::uint32_t*) { std::abort(); }
void scores(const std::uint32_t*, std::size_t, const bf16*, std::size_t, std::size_t, float*, bool) { std::abort(); }
void mix(const std::uint32_t*, std::size_t, std::size_t, const std::uint32_t*, std::size_t, std::size_t, float*, bool) {
    std::abort();
}
}  // namespace trikv::pair_tile_bf16

#endif
