// The instruction-set dispatch (framework/isa.hpp) and every kernel path it chooses: each level
// this CPU runs is forced in turn (IsaOverride) and compared with float64 loops, so the AVX2
// and portable paths are tested on an AVX-512 machine too.
//   * TRIKV_ISA's names parse, an unknown one is a one-line error naming the variable (and the
//     CLI's exit status 2);
//   * the stream-tile kernels (product's streaming decode) read f32, bf16, fp16 and int8 tiles
//     as stored: on the dequantised rows they equal float64 loops to float tolerance, at
//     dimensions with and without a vector tail and across tiles;
//   * the product and factor caches give the same outputs on every level.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <vector>

#include "attention/matrix_attention.hpp"
#include "attention/stored_rows.hpp"
#include "caches/registry.hpp"
#include "conformance.hpp"
#include "framework/isa.hpp"
#include "framework/storage.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;
using Catch::Matchers::Contains;

namespace {

// factor:dtype=bf16 on avx512bf16 rounds A = scale·(K1∘q) to bf16 once more (P is split in two
// bf16 parts, attention/pair_tile_bf16.hpp): each score term moves by ≤ u/2 relative, so as
// in storage_tolerance the output moves by a few u at most; 4u = 2^-6. Measured worst: see
// TRIKV_REPORT_ERRORS=1. A wrong pair or index moves it by O(1).
const double kBf16DotTolerance = 4 * unit_roundoff(Dtype::bf16);

// n rows of d gaussian values stored as S (int8 with its per-row scales), and the same rows
// as the storage holds them, decoded to double (the portable decoders).
template <class S>
struct EncodedRows {
    std::vector<S> values;
    std::vector<float> scales;
    std::vector<double> decoded;

    EncodedRows(Rng& rng, std::size_t n, std::size_t d) : values(n * d), scales(n, 1.0f), decoded(n * d) {
        std::vector<float> row(d), back(d);
        for (std::size_t r = 0; r < n; ++r) {
            for (float& x : row) x = static_cast<float>(rng.normal());
            S* to = values.data() + r * d;
            if constexpr (std::is_same_v<S, float>) {
                std::copy(row.begin(), row.end(), to);
                back = row;
            } else if constexpr (kRowScaled<S>) {
                scales[r] = portable::encode(row.data(), to, d);
                portable::decode(to, &scales[r], 1, d, back.data());
            } else {
                portable::encode(row.data(), to, d);
                portable::decode(to, back.data(), d);
            }
            std::copy(back.begin(), back.end(), decoded.begin() + static_cast<std::ptrdiff_t>(r * d));
        }
    }
    StoredRows<S> stored(std::size_t n, std::size_t d) const {
        StoredRows<S> rows{RowsView<S>::contiguous(values.data(), n, d), {}};
        if constexpr (kRowScaled<S>) rows.scales = RowsView<float>::contiguous(scales.data(), n, 1);
        return rows;
    }
};

// softmax(scale·K·q)ᵀ·V in float64 loops.
std::vector<double> attention64(const std::vector<float>& q, const std::vector<double>& k,
                                const std::vector<double>& v, std::size_t n, std::size_t d, double scale) {
    std::vector<double> s(n), out(d, 0.0);
    double top = -INFINITY, norm = 0;
    for (std::size_t r = 0; r < n; ++r) {
        double dot = 0;
        for (std::size_t l = 0; l < d; ++l) dot += q[l] * k[r * d + l];
        s[r] = scale * dot, top = std::max(top, s[r]);
    }
    for (std::size_t r = 0; r < n; ++r) {
        const double p = std::exp(s[r] - top);
        norm += p;
        for (std::size_t l = 0; l < d; ++l) out[l] += p * v[r * d + l];
    }
    for (double& x : out) x /= norm;
    return out;
}

template <class S>
void check_stream_kernels(Isa isa) {
    const std::size_t tile = kStreamTileRows;
    for (std::size_t d : {5, 8, 16, 24, 64, 136})
        for (std::size_t n : {std::size_t(1), std::size_t(3), tile + 5, 3 * tile}) {
            INFO(isa_name(isa) << ", " << dtype_name(dtype_of<S>()) << ", d = " << d << ", n = " << n);
            Rng rng(7 * d + n);
            const EncodedRows<S> k(rng, n, d), v(rng, n, d);
            std::vector<float> q(d);
            for (float& x : q) x = static_cast<float>(rng.normal());
            const double scale = 1.0 / std::sqrt(static_cast<double>(d));
            std::vector<float> got(d);
            MemoryMeter scratch;
            matrix_decode<S>(1, q.data(), k.stored(n, d), v.stored(n, d), static_cast<float>(scale), got.data(),
                             scratch);
            const double error = relative_l2(got, attention64(q, k.decoded, v.decoded, n, d, scale));
            report_error(std::string("stream tile ") + isa_name(isa) + " " + dtype_name(dtype_of<S>()), error,
                         kCacheTolerance);
            CHECK(error <= kCacheTolerance);
        }
}

}  // namespace

TEST_CASE("TRIKV_ISA levels parse by name, an unknown one is an error naming the variable", "[isa]") {
    for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512, Isa::avx512bf16}) CHECK(parse_isa(isa_name(isa)) == isa);
    CHECK_THROWS_WITH(parse_isa("sse9"), Contains("TRIKV_ISA") && Contains("sse9") && Contains("avx512bf16|avx512|avx2|portable"));
    REQUIRE(runnable_isas().front() == Isa::portable);
    CHECK(runnable_isas().back() == detected_isa());
    for (Isa isa : runnable_isas()) {
        const IsaOverride forced(isa);
        CHECK(active_isa() == isa);
    }
}

TEST_CASE("trikv refuses an unknown TRIKV_ISA before any work, with exit status 2", "[isa][cli]") {
    const auto status = [](const std::string& level) {
        const std::string command = "TRIKV_ISA=" + level + " '" + TRIKV_CLI + "' caches >/dev/null 2>&1";
        const int raw = std::system(command.c_str());
        return raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    };
    CHECK(status("sse9") == 2);
    CHECK(status("portable") == 0);
}

TEST_CASE("stream-tile kernels of every level read each dtype as stored, exact on its dequantised rows",
          "[isa][dtypes][accuracy]") {
    for (Isa isa : runnable_isas()) {
        const IsaOverride forced(isa);
        check_stream_kernels<float>(isa);
        check_stream_kernels<bf16>(isa);
        check_stream_kernels<fp16>(isa);
        check_stream_kernels<std::int8_t>(isa);
    }
}

TEST_CASE("product and factor give the same outputs on every level", "[isa][dtypes][accuracy]") {
    const std::size_t heads = 2, d = 24, tokens = 40;
    Rng rng(11);
    std::vector<float> data(5 * tokens * heads * d);
    for (float& x : data) x = static_cast<float>(rng.normal());
    auto at = [&](std::size_t stream, std::size_t t) { return data.data() + (stream * tokens + t) * heads * d; };
    for (const std::string spec : {"product:dtype=f32", "product:dtype=bf16", "product:dtype=fp16", "product:dtype=int8",
                                   "factor:dtype=f32", "factor:dtype=bf16", "factor:dtype=fp16", "factor:dtype=int8"}) {
        std::vector<std::vector<float>> outputs;  // per level
        for (Isa isa : runnable_isas()) {
            const IsaOverride forced(isa);
            const std::unique_ptr<Cache> cache = make_cache(spec, {heads, d, 1.0 / d});
            for (std::size_t t = 0; t < tokens; ++t) cache->append(1, at(1, t), at(2, t), at(3, t), at(4, t));
            outputs.emplace_back(heads * d);
            cache->attend(1, at(0, tokens - 1), outputs.back().data());
        }
        for (std::size_t level = 1; level < outputs.size(); ++level) {
            const Isa isa = runnable_isas()[level];
            INFO(spec << ": " << isa_name(isa) << " against portable");
            const bool bf16_dots = spec == "factor:dtype=bf16" && isa == Isa::avx512bf16;
            const double tolerance = bf16_dots ? kBf16DotTolerance : kCacheTolerance;
            report_error(std::string("isa ") + isa_name(isa) + " " + spec, relative_l2(outputs[level], outputs[0]),
                         tolerance);
            CHECK(relative_l2(outputs[level], outputs[0]) <= tolerance);
        }
    }
}
