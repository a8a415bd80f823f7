#pragma once
// The loops of attention/stream_tile_kernels.hpp, written once over a level's vector type L:
//
//   L::V, L::kLanes        a vector of floats and its width
//   zero(), broadcast(x), fma(a, b, c) = a·b + c, add(a, b), sum(v) (horizontal),
//   sum_each(V v[kLanes]) (lane r = sum(v[r]))
//   load(const S*)         kLanes stored values as floats (converted in registers)
//   load(const float*), store(float*, V)
//
// Included only by the per-level .cpp files, each inside its own target region, and all of it
// in an anonymous namespace: every file gets its own copy compiled for its level (one shared
// inline definition would let the linker pick the AVX-512 copy for the AVX2 path).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "attention/stream_tile_kernels.hpp"
#include "framework/storage.hpp"

namespace trikv::stream_tile {
namespace {

// One stored value as a float, without its row scale.
inline float element(const float* p) { return *p; }
inline float element(const bf16* p) { return to_float(*p); }
inline float element(const fp16* p) { return to_float(*p); }
inline float element(const std::int8_t* p) { return static_cast<float>(*p); }

// Reduced formats (1- or 2-byte values) get the two int8 measures below — the row prefetch
// and the batched reduction (scores) — and float rows do not: in an A/B of f32 product
// (docs/performance.md, issue 28) each cost f32 10–15% more CPU.
template <class S>
inline constexpr bool kNarrow = sizeof(S) < sizeof(float);

// Each row's lines are asked for kPrefetchAhead bytes before they are read: with one 64-byte
// int8 row per line, the loads of a row's first line stalled (half of the int8 score loop's
// samples in perf) although the previous tile asked for this one (matrix_attention.cpp).
// Product's tiles of keys and values are back to back, so address order is reading order.
constexpr std::size_t kPrefetchAhead = 4096;

template <class S>
inline void prefetch_ahead(const S* row, std::size_t d) {
    if constexpr (!kNarrow<S>) return;
    const char* bytes = reinterpret_cast<const char*>(row) + kPrefetchAhead;
    for (std::size_t b = 0; b < d * sizeof(S); b += 64) __builtin_prefetch(bytes + b, 0, 3);
}

template <class S>
inline float row_scale(const float* scales, std::size_t r) {
    if constexpr (kRowScaled<S>) return scales[r];
    else return 1.0f;
}

// ⟨q, row⟩ over the whole vectors of d, unreduced (two accumulators): its lanes sum to the dot.
template <class L, class S>
inline typename L::V dot_lanes(const float* q, const S* row, std::size_t d) {
    constexpr std::size_t w = L::kLanes;
    typename L::V a0 = L::zero(), a1 = L::zero();
    std::size_t l = 0;
    for (; l + 2 * w <= d; l += 2 * w) {
        a0 = L::fma(L::load(q + l), L::load(row + l), a0);
        a1 = L::fma(L::load(q + l + w), L::load(row + l + w), a1);
    }
    if (l + w <= d) a0 = L::fma(L::load(q + l), L::load(row + l), a0);
    return L::add(a0, a1);
}

// ⟨q, row⟩ over d values: the whole vectors, then the tail one value at a time.
template <class L, class S>
inline float dot(const float* q, const S* row, std::size_t d) {
    float s = L::sum(dot_lanes<L>(q, row, d));
    for (std::size_t l = d / L::kLanes * L::kLanes; l < d; ++l) s += q[l] * element(row + l);
    return s;
}

// Rows one after another, so the tile is read in address order (what the prefetchers follow
// best; docs/performance.md). Narrow formats: kLanes rows at a time keep their dots unreduced
// and reduce them together (L::sum_each: lane r = the sum of vector r), a few shuffles a row
// instead of a horizontal sum each — the sums were a third of an int8 tile's score work.
template <class L, class S>
void scores(const float* q, const S* k, const float* k_scales, std::size_t rows, std::size_t d, float scale,
            float* s) {
    constexpr std::size_t w = L::kLanes;
    std::size_t r = 0;
    if constexpr (w > 1 && kNarrow<S>) {
        const std::size_t tail = d / w * w;  // dimensions past the whole vectors
        for (; d >= w && r + w <= rows; r += w) {
            typename L::V dots[w];
            for (std::size_t i = 0; i < w; ++i) {
                prefetch_ahead(k + (r + i) * d, d);
                dots[i] = dot_lanes<L>(q, k + (r + i) * d, d);
            }
            alignas(64) float sums[w];
            L::store(sums, L::sum_each(dots));
            for (std::size_t i = 0; i < w; ++i) {
                const S* row = k + (r + i) * d;
                for (std::size_t l = tail; l < d; ++l) sums[i] += q[l] * element(row + l);
                s[r + i] = scale * row_scale<S>(k_scales, r + i) * sums[i];
            }
        }
    }
    for (; r < rows; ++r) s[r] = scale * row_scale<S>(k_scales, r) * dot<L>(q, k + r * d, d);
}

// acc[0, NV·kLanes) += Σ_r w_r·v_r: the accumulators stay in registers over all the rows.
template <class L, std::size_t NV, class S>
inline void accumulate_strip(const S* v, const float* v_scales, const float* p, std::size_t rows, std::size_t d,
                             float* acc) {
    constexpr std::size_t w = L::kLanes;
    typename L::V a[NV];
    for (std::size_t k = 0; k < NV; ++k) a[k] = L::load(acc + k * w);
    for (std::size_t r = 0; r < rows; ++r) {
        const typename L::V weight = L::broadcast(p[r] * row_scale<S>(v_scales, r));
        const S* row = v + r * d;
        prefetch_ahead(row, NV * w);
        for (std::size_t k = 0; k < NV; ++k) a[k] = L::fma(weight, L::load(row + k * w), a[k]);
    }
    for (std::size_t k = 0; k < NV; ++k) L::store(acc + k * w, a[k]);
}

// Strips of up to kMaxStrip vectors of dimensions (d = 128 in AVX-512 is one strip: the tile
// is read row by row), then the tail dimensions one at a time.
template <class L, class S>
void accumulate(const S* v, const float* v_scales, const float* p, std::size_t rows, std::size_t d, float* acc) {
    constexpr std::size_t w = L::kLanes, kMaxStrip = 8;
    std::size_t l = 0;
    for (; l + w <= d;) {
        const std::size_t vectors = std::min(kMaxStrip, (d - l) / w);
        const S* vl = v + l;
        float* al = acc + l;
        switch (vectors) {
            case 1: accumulate_strip<L, 1>(vl, v_scales, p, rows, d, al); break;
            case 2: accumulate_strip<L, 2>(vl, v_scales, p, rows, d, al); break;
            case 3: accumulate_strip<L, 3>(vl, v_scales, p, rows, d, al); break;
            case 4: accumulate_strip<L, 4>(vl, v_scales, p, rows, d, al); break;
            case 5: accumulate_strip<L, 5>(vl, v_scales, p, rows, d, al); break;
            case 6: accumulate_strip<L, 6>(vl, v_scales, p, rows, d, al); break;
            case 7: accumulate_strip<L, 7>(vl, v_scales, p, rows, d, al); break;
            default: accumulate_strip<L, kMaxStrip>(vl, v_scales, p, rows, d, al); break;
        }
        l += vectors * w;
    }
    if (l == d) return;
    for (std::size_t r = 0; r < rows; ++r) {
        const float weight = p[r] * row_scale<S>(v_scales, r);
        for (std::size_t t = l; t < d; ++t) acc[t] += weight * element(v + r * d + t);
    }
}

template <class L, class S>
StreamTileKernels<S> kernels_of() {
    return {&scores<L, S>, &accumulate<L, S>};
}

}  // namespace
}  // namespace trikv::stream_tile

// Defines trikv::stream_tile::NAME<S>(), the kernels over vector type LANES, for every storage
// type (inside namespace trikv::stream_tile).
#define TRIKV_STREAM_TILE_LEVEL(NAME, LANES)                         \
    template <class S>                                               \
    StreamTileKernels<S> NAME() {                                    \
        return kernels_of<LANES, S>();                               \
    }                                                                \
    template StreamTileKernels<float> NAME<float>();                 \
    template StreamTileKernels<bf16> NAME<bf16>();                   \
    template StreamTileKernels<fp16> NAME<fp16>();                   \
    template StreamTileKernels<std::int8_t> NAME<std::int8_t>();
