#pragma once
// The loops of attention/pair_tile_kernel.hpp, written once over a level's vector type L
// (attention/lanes_avx2.hpp, lanes_avx512.hpp): V, kLanes, zero(), broadcast(x), fma, max,
// load(p), store(p, v), and masked loads (Mask, first(n), load(p, mask)). A 16-row lane panel
// is kPanelRows / kLanes vectors. The micro-tile is Tile::kPanels panels × Tile::kOutputs
// outputs, all in accumulators.
//
// Included only by the per-level .cpp files, each inside its own target region, and all of it
// in an anonymous namespace: every file gets its own copy compiled for its level.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <limits>

#include "attention/exp_approx.hpp"
#include "attention/pair_tile_kernel.hpp"

namespace trikv::pair_tile {
namespace {

template <class L>
inline constexpr std::size_t kPanelVectors = kPanelRows / L::kLanes;  // vectors per panel column

// One product operand set: C (+)= A·op(B), C[i][o] = Σ_k A[i][k]·b[k·b_step_k + o·b_step_r],
// A and C in lane panels of a_panel and c_panel floats each.
struct Operands {
    const float* a;
    std::size_t a_panel;
    const float* b;
    std::size_t b_step_k, b_step_r;
    float* c;
    std::size_t c_panel;
    std::size_t k_count;
    bool accumulate;
};

// One micro-tile: P panels of rows × R outputs. Unless kFull (then P = 1), A's lanes past the
// panel's rows are masked off on loading (they may hold anything), so those lanes of C get 0
// (or keep their value when accumulating): whole vectors are stored, and every lane of C is
// defined once written.
template <class L, std::size_t P, std::size_t R, bool kFull>
[[gnu::always_inline]] inline void micro_tile(const Operands& x, const typename L::Mask* masks) {
    using V = typename L::V;
    constexpr std::size_t W = kPanelVectors<L>, lanes = L::kLanes;
    static_assert(kFull || P == 1);
    V acc[R][P * W];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < P * W; ++j) {
            const float* c = x.c + (j / W) * x.c_panel + r * kPanelRows + (j % W) * lanes;
            acc[r][j] = x.accumulate ? L::load(c) : L::zero();
        }
    for (std::size_t k = 0; k < x.k_count; ++k) {
        V a[P * W];
#pragma GCC unroll 4
        for (std::size_t j = 0; j < P * W; ++j) {
            const float* at = x.a + (j / W) * x.a_panel + k * kPanelRows + (j % W) * lanes;
            if constexpr (kFull) a[j] = L::load(at);
            else a[j] = L::load(at, masks[j]);
        }
        const float* bk = x.b + k * x.b_step_k;
#pragma GCC unroll 16
        for (std::size_t r = 0; r < R; ++r) {
            const V bkr = L::broadcast(bk[r * x.b_step_r]);
#pragma GCC unroll 4
            for (std::size_t j = 0; j < P * W; ++j) acc[r][j] = L::fma(bkr, a[j], acc[r][j]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < P * W; ++j)
            L::store(x.c + (j / W) * x.c_panel + r * kPanelRows + (j % W) * lanes, acc[r][j]);
}

// The last `outputs` < R outputs of a strip: the micro-tile of that width.
template <class L, std::size_t P, std::size_t R, bool kFull>
[[gnu::always_inline]] inline void short_strip(std::size_t outputs, const Operands& x, const typename L::Mask* masks) {
    if constexpr (R > 0) {
        if (outputs == R) return micro_tile<L, P, R, kFull>(x, masks);
        short_strip<L, P, R - 1, kFull>(outputs, x, masks);
    }
}

// All `outputs` of P panels, Tile::kOutputs at a time, then the short strip.
template <class L, class Tile, std::size_t P, bool kFull>
[[gnu::always_inline]] inline void panels(std::size_t outputs, Operands x, const typename L::Mask* masks) {
    constexpr std::size_t R = Tile::kOutputs;
    const float* b = x.b;
    float* c = x.c;
    std::size_t o = 0;
    for (; o + R <= outputs; o += R) {
        x.b = b + o * x.b_step_r, x.c = c + o * kPanelRows;
        micro_tile<L, P, R, kFull>(x, masks);
    }
    x.b = b + o * x.b_step_r, x.c = c + o * kPanelRows;
    short_strip<L, P, R - 1, kFull>(outputs - o, x, masks);
}

// The product both GEMMs are, on lane panels, for rows i < rows and outputs o < outputs; A has
// a_cols columns, C has c_cols. Tile::kPanels whole panels of A at a time (they stay in L1
// while every output strip runs over them), then the rest one panel at a time.
template <class L, class Tile>
void lane_product(std::size_t rows, std::size_t outputs, std::size_t k_count, const float* a, std::size_t a_cols,
                  const float* b, std::size_t b_step_k, std::size_t b_step_r, float* c, std::size_t c_cols,
                  bool accumulate) {
    constexpr std::size_t P = Tile::kPanels, W = kPanelVectors<L>;
    const Operands base{a, kPanelRows * a_cols, b, b_step_k, b_step_r, c, kPanelRows * c_cols, k_count, accumulate};
    typename L::Mask masks[W];
    std::size_t i0 = 0;
    for (; i0 + P * kPanelRows <= rows; i0 += P * kPanelRows) {
        Operands x = base;
        x.a = a + i0 * a_cols, x.c = c + i0 * c_cols;
        panels<L, Tile, P, true>(outputs, x, masks);
    }
    for (; i0 < rows; i0 += kPanelRows) {
        Operands x = base;
        x.a = a + i0 * a_cols, x.c = c + i0 * c_cols;
        const std::size_t width = std::min(kPanelRows, rows - i0);
        if (width == kPanelRows) {
            panels<L, Tile, 1, true>(outputs, x, masks);
            continue;
        }
        for (std::size_t j = 0; j < W; ++j) masks[j] = L::first(width > j * L::kLanes ? width - j * L::kLanes : 0);
        panels<L, Tile, 1, false>(outputs, x, masks);
    }
}

template <class L, class Tile>
void scores(const float* a, std::size_t rows, const float* k2, std::size_t cols, std::size_t d, float* s) {
    lane_product<L, Tile>(rows, cols, d, a, d, k2, 1, d, s, kMaxCols, false);
}

template <class L, class Tile>
void mix(const float* p, std::size_t rows, const float* v2, std::size_t cols, std::size_t d, float* u,
         bool accumulate) {
    lane_product<L, Tile>(rows, d, cols, p, kMaxCols, v2, d, 1, u, d, accumulate);
}

// Plain loops with a panel's 16 rows innermost: the compiler vectorises each across the
// lanes at the level's width. Lanes past `rows` in the last panel are computed too (finite:
// lane_product wrote them), and never read back by the caller: the loops stay whole vectors.
template <class L>
void softmax(float* s, std::size_t rows, std::size_t cols, float* row_max, float* row_norm, float* u, std::size_t d,
             bool rescale) {
    using V = typename L::V;
    constexpr std::size_t W = kPanelVectors<L>;
    constexpr float none = -std::numeric_limits<float>::infinity();
    for (std::size_t i0 = 0; i0 < rows; i0 += kPanelRows) {
        const std::size_t width = std::min(kPanelRows, rows - i0);
        alignas(64) float top[kPanelRows], shift[kPanelRows], sum[kPanelRows];
        float shrink[kPanelRows];
        for (std::size_t i = 0; i < kPanelRows; ++i) top[i] = i < width ? row_max[i0 + i] : none, sum[i] = 0.0f;
        float* panel = s + i0 * kMaxCols;
        // The running max in vectors: GCC left the plain loop's compare-and-select scalar.
        V tops[W];
        for (std::size_t j = 0; j < W; ++j) tops[j] = L::load(top + j * L::kLanes);
        for (std::size_t c = 0; c < cols; ++c)
            for (std::size_t j = 0; j < W; ++j)
                tops[j] = L::max(L::load(panel + c * kPanelRows + j * L::kLanes), tops[j]);
        for (std::size_t j = 0; j < W; ++j) L::store(top + j * L::kLanes, tops[j]);
        for (std::size_t i = 0; i < kPanelRows; ++i) {
            shift[i] = top[i] == none ? 0.0f : top[i];  // no usable pair yet: every exp is then 0
            shrink[i] = exp_nonpositive((i < width ? row_max[i0 + i] : none) - shift[i]);
        }
        if constexpr (requires(V v) { L::exp_nonpositive(v); }) {  // the level's own vector exp
            V shifts[W], sums[W];
            for (std::size_t j = 0; j < W; ++j) shifts[j] = L::load(shift + j * L::kLanes), sums[j] = L::zero();
            for (std::size_t c = 0; c < cols; ++c)
                for (std::size_t j = 0; j < W; ++j) {
                    float* at = panel + c * kPanelRows + j * L::kLanes;
                    const V e = L::exp_nonpositive(L::sub(L::load(at), shifts[j]));
                    L::store(at, e);
                    sums[j] = L::add(sums[j], e);
                }
            for (std::size_t j = 0; j < W; ++j) L::store(sum + j * L::kLanes, sums[j]);
        } else {
            for (std::size_t c = 0; c < cols; ++c)
                for (std::size_t i = 0; i < kPanelRows; ++i) {
                    const float e = exp_nonpositive(panel[c * kPanelRows + i] - shift[i]);
                    panel[c * kPanelRows + i] = e;
                    sum[i] += e;
                }
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

template <class L, class Tile>
Kernels kernels_of() {
    return {&scores<L, Tile>, &softmax<L>, &mix<L, Tile>};
}

}  // namespace
}  // namespace trikv::pair_tile
