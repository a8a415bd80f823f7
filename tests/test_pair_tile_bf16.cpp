// The bf16 dot-product pair-tile kernels (attention/pair_tile_bf16.hpp) against float64 loops,
// on values bf16 holds exactly (so the only rounding is float accumulation): pair packing with
// odd column counts and partial panels, scores on K2 as stored, the value product on
// interleaved V2 rows, accumulation, and the residual split x = hi + lo. Skipped unless the
// CPU runs avx512bf16 (tests/test_isa_paths.cpp walks the other levels).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "attention/pair_tile_bf16.hpp"
#include "attention/pair_tile_kernel.hpp"
#include "framework/isa.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;
using pair_tile::kMaxCols;
using pair_tile::kPanelRows;
using pair_tile::lane_index;
using pair_tile::panel_floats;

namespace {

constexpr double kProductTolerance = 1e-5;  // float accumulation of ≤ 256 exact products, as test_pair_tile_kernel

float bf16_exact(Rng& rng) { return to_float(to_bf16(static_cast<float>(rng.normal()))); }

// rows × n in lane panels, bf16-exact values; NaN in padding lanes, which must not leak.
std::vector<float> panels(Rng& rng, std::size_t rows, std::size_t n) {
    std::vector<float> x(panel_floats(rows, n), std::numeric_limits<float>::quiet_NaN());
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t c = 0; c < n; ++c) x[lane_index(i, c, n)] = bf16_exact(rng);
    return x;
}

std::vector<bf16> bf16_rows(Rng& rng, std::size_t count) {
    std::vector<bf16> x(count);
    for (bf16& v : x) v = to_bf16(bf16_exact(rng));
    return x;
}

}  // namespace

TEST_CASE("bf16 pair-tile scores and mix equal float64 loops on packing and micro-tile edges", "[tensor][tile][isa]") {
    if (detected_isa() < Isa::avx512bf16) {
        SUCCEED("no AVX512_BF16: the kernels are not used on this CPU");
        return;
    }
    const IsaOverride forced(Isa::avx512bf16);
    REQUIRE(pair_tile_bf16::available());
    for (std::size_t rows : {1, 15, 16, 17, 40})
        for (std::size_t cols : {1, 2, 13, 24, 255, 256})
            for (std::size_t d : {2, 6, 34, 64}) {
                INFO("rows " << rows << ", cols " << cols << ", d " << d);
                Rng rng(rows * 10007 + cols * 101 + d);
                // scores: S = A·K2ᵀ, A packed from lane panels.
                const std::vector<float> a = panels(rng, rows, d);
                std::vector<std::uint32_t> a_pairs(panel_floats(rows, d) / 2);
                pair_tile_bf16::pack_pairs(a.data(), kPanelRows * d, rows, d, a_pairs.data(), kPanelRows * d / 2);
                const std::vector<bf16> k2 = bf16_rows(rng, cols * d);
                std::vector<float> s(panel_floats(rows, kMaxCols));
                pair_tile_bf16::scores(a_pairs.data(), rows, k2.data(), cols, d, s.data());
                double worst = 0;
                for (std::size_t i = 0; i < rows; ++i)
                    for (std::size_t j = 0; j < cols; ++j) {
                        double want = 0;
                        for (std::size_t l = 0; l < d; ++l) want += double(a[lane_index(i, l, d)]) * to_float(k2[j * d + l]);
                        worst = std::max(worst, std::abs(s[lane_index(i, j, kMaxCols)] - want) / (1 + std::abs(want)));
                    }
                CHECK(worst <= kProductTolerance);

                // mix: U = U0 + P·V2 with P split into hi + lo (P any float), V2 row pairs.
                std::vector<float> p(panel_floats(rows, kMaxCols), std::numeric_limits<float>::quiet_NaN());
                for (std::size_t i = 0; i < rows; ++i)
                    for (std::size_t j = 0; j < cols; ++j) p[lane_index(i, j, kMaxCols)] = static_cast<float>(rng.uniform());
                const std::vector<bf16> v2 = bf16_rows(rng, cols * d);
                std::vector<std::uint32_t> v2_pairs((cols + 1) / 2 * d), p_low(panel_floats(rows, kMaxCols) / 2);
                pair_tile_bf16::pack_values(v2.data(), cols, d, v2_pairs.data());
                const std::vector<float> u0 = panels(rng, rows, d);
                std::vector<float> u = u0;
                const std::vector<float> p_float = p;
                const std::size_t panel = kPanelRows * kMaxCols;
                pair_tile_bf16::pack_pairs(p.data(), panel, rows, cols, p_low.data(), panel / 2, /*residual=*/true);
                auto* p_high = reinterpret_cast<std::uint32_t*>(p.data());
                pair_tile_bf16::pack_pairs(p.data(), panel, rows, cols, p_high, panel);  // in place
                pair_tile_bf16::mix(p_high, panel, rows, v2_pairs.data(), cols, d, u.data(), /*accumulate=*/true);
                pair_tile_bf16::mix(p_low.data(), panel / 2, rows, v2_pairs.data(), cols, d, u.data(), true);
                // hi + lo holds each p to 2^-17 relative (lo is rounded to 2^-9 of itself, itself
                // ≤ 2^-9·p), so an entry may move by 2^-17·Σ_j |p_j·v_jl| beyond float rounding;
                // `worst` is the error in units of that allowance (≤ 1).
                worst = 0;
                for (std::size_t i = 0; i < rows; ++i)
                    for (std::size_t l = 0; l < d; ++l) {
                        double want = u0[lane_index(i, l, d)], magnitude = 0;
                        for (std::size_t j = 0; j < cols; ++j) {
                            const double term = double(p_float[lane_index(i, j, kMaxCols)]) * to_float(v2[j * d + l]);
                            want += term, magnitude += std::abs(term);
                        }
                        const double allowed = 0x1p-17 * magnitude + kProductTolerance * (1 + std::abs(want));
                        worst = std::max(worst, std::abs(u[lane_index(i, l, d)] - want) / allowed);
                    }
                CHECK(worst <= 1.0);
            }
}
