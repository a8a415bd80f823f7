// The register-tiled pair-tile kernel (attention/pair_tile_kernel.hpp) against plain float64
// loops, on sizes around its micro-tile (16 lanes, strips of 6 outputs): full and masked lane
// panels, full and short strips, a strided leading dimension, accumulation, and the online
// softmax's masked (−inf) entries and rescaling. Skipped on CPUs without AVX2 and FMA, where
// the decode kernel uses BLAS instead (tensor_attention's tests cover both).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "attention/pair_tile_kernel.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

// One float epsilon per summed term of the longest product here (k ≤ 130), with margin: an
// index error moves an entry by O(1).
constexpr double kProductTolerance = 1e-5;

std::vector<float> gaussian(Rng& rng, std::size_t n) {
    std::vector<float> x(n);
    for (float& v : x) v = static_cast<float>(rng.normal());
    return x;
}

}  // namespace

TEST_CASE("pair_tile scores and mix equal float64 loops on every micro-tile edge", "[tensor][tile]") {
    if (!pair_tile::available()) {
        SUCCEED("no AVX2+FMA: the kernel is not used on this CPU");
        return;
    }
        for (std::size_t rows : {1, 7, 8, 9, 16, 17, 31, 32, 45})
            for (std::size_t outputs : {1, 5, 6, 7, 13})
                for (std::size_t depth : {1, 3, 130}) {
                    Rng rng(1000 + rows * 100 + outputs * 10 + depth);
                    const std::size_t ld = rows + 3;  // columns of the transposed buffers are strided
                    // scores: st[j·ld + i] = Σ_l k2[j·d + l]·at[l·ld + i], d = depth, cols = outputs
                    const std::vector<float> at = gaussian(rng, depth * ld), k2 = gaussian(rng, outputs * depth);
                    std::vector<float> st(outputs * ld, -7.0f);
                    pair_tile::scores(at.data(), ld, rows, k2.data(), outputs, depth, st.data());
                    // mix: ut[l·ld + i] = ut + Σ_j st[j·ld + i]·v2[j·d + l], cols = depth, d = outputs
                    const std::vector<float> p = gaussian(rng, depth * ld), v2 = gaussian(rng, depth * outputs);
                    const std::vector<float> before = gaussian(rng, outputs * ld);
                    std::vector<float> ut = before;
                    pair_tile::mix(p.data(), ld, rows, v2.data(), depth, outputs, ut.data(), true);
                    double worst_scores = 0, worst_mix = 0;
                    for (std::size_t o = 0; o < outputs; ++o)
                        for (std::size_t i = 0; i < ld; ++i) {
                            if (i >= rows) {  // lanes past `rows` are never written
                                CHECK(st[o * ld + i] == -7.0f);
                                CHECK(ut[o * ld + i] == before[o * ld + i]);
                                continue;
                            }
                            double s = 0, u = before[o * ld + i];
                            for (std::size_t k = 0; k < depth; ++k) {
                                s += double(k2[o * depth + k]) * at[k * ld + i];
                                u += double(v2[k * outputs + o]) * p[k * ld + i];
                            }
                            worst_scores = std::max(worst_scores, std::abs(st[o * ld + i] - s) / (1 + std::abs(s)));
                            worst_mix = std::max(worst_mix, std::abs(ut[o * ld + i] - u) / (1 + std::abs(u)));
                        }
                    INFO("rows " << rows << ", outputs " << outputs << ", depth " << depth);
                    CHECK(worst_scores <= kProductTolerance);
                    CHECK(worst_mix <= kProductTolerance);
                }
}

TEST_CASE("pair_tile softmax keeps the running max, normaliser and U of each row", "[tensor][tile]") {
    if (!pair_tile::available()) {
        SUCCEED("no AVX2+FMA: the kernel is not used on this CPU");
        return;
    }
    constexpr float none = -std::numeric_limits<float>::infinity();
    const std::size_t rows = 19, ld = 21, cols = 11, d = 3;
    Rng rng(77);
    std::vector<float> st = gaussian(rng, cols * ld), ut = gaussian(rng, d * ld);
    for (std::size_t j = 4; j < cols; ++j) st[j * ld + 2] = none;  // row 2 may use columns 0..3 only
    for (std::size_t j = 0; j < cols; ++j) st[j * ld + 5] = none;  // row 5: no usable pair in this tile
    std::vector<float> row_max(rows), row_norm(rows);
    for (std::size_t i = 0; i < rows; ++i) row_max[i] = i == 5 ? none : float(rng.normal()), row_norm[i] = i == 5 ? 0.0f : 2.0f;
    const std::vector<float> s0 = st, u0 = ut, max0 = row_max, norm0 = row_norm;
    pair_tile::softmax(st.data(), ld, rows, cols, row_max.data(), row_norm.data(), ut.data(), d, true);
    for (std::size_t i = 0; i < rows; ++i) {
        INFO("row " << i);
        double top = max0[i];
        for (std::size_t j = 0; j < cols; ++j) top = std::max<double>(top, s0[j * ld + i]);
        CHECK(row_max[i] == float(top));
        if (i == 5) {  // nothing yet and nothing usable: stays empty, no NaN
            CHECK(row_norm[i] == 0.0f);
            for (std::size_t j = 0; j < cols; ++j) CHECK(st[j * ld + i] == 0.0f);
            continue;
        }
        const double shrink = std::exp(double(max0[i]) - top);
        double norm = norm0[i] * shrink;
        for (std::size_t j = 0; j < cols; ++j) {
            const double p = s0[j * ld + i] == none ? 0.0 : std::exp(double(s0[j * ld + i]) - top);
            CHECK(std::abs(st[j * ld + i] - p) <= 1e-6 * (1 + p));
            norm += p;
        }
        CHECK(std::abs(row_norm[i] - norm) <= 1e-6 * norm);
        for (std::size_t l = 0; l < d; ++l) CHECK(std::abs(ut[l * ld + i] - u0[l * ld + i] * shrink) <= 1e-6 * (1 + std::abs(u0[l * ld + i])));
    }
}
