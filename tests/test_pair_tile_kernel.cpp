// The register-tiled pair-tile kernels (attention/pair_tile_kernel.hpp) of every level this CPU
// runs from avx2 up against plain float64 loops, on sizes around their micro-tiles (16-row lane
// panels; AVX2 strips of 6 outputs on one panel, AVX-512 strips of 12 on two): whole and
// partial panels, pairs of panels and a lone one after them, full and short strips,
// accumulation, and the online softmax's masked (−inf) entries and rescaling. Nothing runs on
// CPUs without AVX2 and FMA, where the decode kernel uses BLAS instead (tensor_attention's
// tests cover both).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "attention/pair_tile_kernel.hpp"
#include "framework/isa.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;
using pair_tile::kMaxCols;
using pair_tile::lane_index;
using pair_tile::panel_floats;

namespace {

// A few float epsilons per summed term of the longest product here (130 terms), with margin:
// an index error moves an entry by O(1).
constexpr double kProductTolerance = 1e-5;

// A rows × n matrix in lane panels, gaussian in the rows it has and NaN in the padding lanes:
// the kernel must not let those reach a real row.
std::vector<float> panels(Rng& rng, std::size_t rows, std::size_t n) {
    std::vector<float> x(panel_floats(rows, n), std::numeric_limits<float>::quiet_NaN());
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t c = 0; c < n; ++c) x[lane_index(i, c, n)] = static_cast<float>(rng.normal());
    return x;
}

std::vector<float> gaussian(Rng& rng, std::size_t n) {
    std::vector<float> x(n);
    for (float& v : x) v = static_cast<float>(rng.normal());
    return x;
}

// The levels with register-tiled kernels this CPU runs.
std::vector<Isa> tiled_levels() {
    std::vector<Isa> levels;
    for (Isa isa : runnable_isas())
        if (isa >= Isa::avx2) levels.push_back(isa);
    return levels;
}

}  // namespace

TEST_CASE("pair_tile scores and mix equal float64 loops on every micro-tile edge", "[tensor][tile][isa]") {
    for (const Isa isa : tiled_levels()) {
        const pair_tile::Kernels kernels = pair_tile::kernels(isa);
        for (std::size_t rows : {1, 7, 8, 9, 16, 17, 31, 32, 45, 48, 64, 80})
            for (std::size_t outputs : {1, 5, 6, 7, 11, 12, 13, 25})
                for (std::size_t depth : {1, 3, 130}) {
                    Rng rng(1000 + rows * 100 + outputs * 10 + depth);
                    // scores: S = A·K2ᵀ with A rows × depth, K2 outputs × depth (S's columns = outputs)
                    const std::vector<float> a = panels(rng, rows, depth), k2 = gaussian(rng, outputs * depth);
                    std::vector<float> s(panel_floats(rows, kMaxCols));
                    kernels.scores(a.data(), rows, k2.data(), outputs, depth, s.data());
                    // mix: U += P·V2 with P = the first `depth` columns of a rows × kMaxCols panel
                    // matrix, V2 depth × outputs (U's columns = outputs = d)
                    const std::vector<float> p = panels(rng, rows, kMaxCols), v2 = gaussian(rng, depth * outputs);
                    const std::vector<float> before = panels(rng, rows, outputs);
                    std::vector<float> u = before;
                    kernels.mix(p.data(), rows, v2.data(), depth, outputs, u.data(), true);
                    double worst_scores = 0, worst_mix = 0;
                    for (std::size_t i = 0; i < rows; ++i)
                        for (std::size_t o = 0; o < outputs; ++o) {
                            double want_s = 0, want_u = before[lane_index(i, o, outputs)];
                            for (std::size_t k = 0; k < depth; ++k) {
                                want_s += double(k2[o * depth + k]) * a[lane_index(i, k, depth)];
                                want_u += double(v2[k * outputs + o]) * p[lane_index(i, k, kMaxCols)];
                            }
                            const double got_s = s[lane_index(i, o, kMaxCols)], got_u = u[lane_index(i, o, outputs)];
                            worst_scores = std::max(worst_scores, std::abs(got_s - want_s) / (1 + std::abs(want_s)));
                            worst_mix = std::max(worst_mix, std::abs(got_u - want_u) / (1 + std::abs(want_u)));
                        }
                    INFO(isa_name(isa) << ": rows " << rows << ", outputs " << outputs << ", depth " << depth);
                    CHECK(worst_scores <= kProductTolerance);  // NaN fails too
                    CHECK(worst_mix <= kProductTolerance);
                }
    }
}

namespace {

void check_softmax(const pair_tile::Kernels& kernels) {
    constexpr float none = -std::numeric_limits<float>::infinity();
    const std::size_t rows = 19, cols = 11, d = 3;
    Rng rng(77);
    std::vector<float> s = panels(rng, rows, kMaxCols), u = panels(rng, rows, d);
    for (std::size_t j = 4; j < cols; ++j) s[lane_index(2, j, kMaxCols)] = none;  // row 2: columns 0..3 only
    for (std::size_t j = 0; j < cols; ++j) s[lane_index(5, j, kMaxCols)] = none;  // row 5: nothing usable here
    std::vector<float> row_max(rows), row_norm(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        row_max[i] = i == 5 ? none : static_cast<float>(rng.normal());
        row_norm[i] = i == 5 ? 0.0f : 2.0f;
    }
    const std::vector<float> s0 = s, u0 = u, max0 = row_max, norm0 = row_norm;
    kernels.softmax(s.data(), rows, cols, row_max.data(), row_norm.data(), u.data(), d, true);
    for (std::size_t i = 0; i < rows; ++i) {
        INFO("row " << i);
        double top = max0[i];
        for (std::size_t j = 0; j < cols; ++j) top = std::max<double>(top, s0[lane_index(i, j, kMaxCols)]);
        CHECK(row_max[i] == static_cast<float>(top));
        if (i == 5) {  // nothing yet and nothing usable: stays empty, no NaN
            CHECK(row_norm[i] == 0.0f);
            for (std::size_t j = 0; j < cols; ++j) CHECK(s[lane_index(i, j, kMaxCols)] == 0.0f);
            continue;
        }
        const double shrink = std::exp(double(max0[i]) - top);
        double norm = norm0[i] * shrink;
        for (std::size_t j = 0; j < cols; ++j) {
            const double x = s0[lane_index(i, j, kMaxCols)];
            const double p = x == none ? 0.0 : std::exp(x - top);
            CHECK(std::abs(s[lane_index(i, j, kMaxCols)] - p) <= 1e-6 * (1 + p));
            norm += p;
        }
        CHECK(std::abs(row_norm[i] - norm) <= 1e-6 * norm);
        for (std::size_t l = 0; l < d; ++l) {
            const double want = u0[lane_index(i, l, d)] * shrink;
            CHECK(std::abs(u[lane_index(i, l, d)] - want) <= 1e-6 * (1 + std::abs(want)));
        }
    }
}

}  // namespace

TEST_CASE("pair_tile softmax keeps the running max, normaliser and U of each row", "[tensor][tile][isa]") {
    for (const Isa isa : tiled_levels()) {
        INFO(isa_name(isa));
        check_softmax(pair_tile::kernels(isa));
    }
}
