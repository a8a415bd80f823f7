// Storage dtypes of the exact caches, `product:dtype=…` and `factor:…,dtype=…` (f32, bf16,
// fp16, int8; framework/storage.hpp):
//   * the conversions: bf16 round-to-nearest-even (ties, NaN, ±inf, subnormals), IEEE half
//     (overflow to inf, subnormals), int8 per-row scales, round trips of every 16-bit value;
//   * the portable and the dispatched (SIMD, F16C) converters agree bit for bit;
//   * bytes() equals the layout formula for every dtype (scales counted);
//   * against the float64 reference, every dtype's error is within its bound
//     (storage_tolerance in conformance.hpp) and the errors are ordered f32 < fp16 < bf16 and
//     f32 < int8 on the same data (gaussian and clustered, fixed seeds);
//   * the error is the storage's only: on the dequantised rows every dtype is exact to float
//     tolerance;
//   * decoding costs O(tile) scratch, exactly the declared tiles.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "attention/matrix_attention.hpp"
#include "attention/pair_tile_bf16.hpp"
#include "attention/reference.hpp"
#include "attention/stored_rows.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "conformance.hpp"
#include "framework/isa.hpp"
#include "framework/storage.hpp"
#include "framework/threads.hpp"
#include "studies/measure/token_data.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;
using Catch::Matchers::Contains;

namespace {

float from_bits(std::uint32_t bits) { return std::bit_cast<float>(bits); }
bool is_nan_bf16(std::uint16_t b) { return (b & 0x7f80u) == 0x7f80u && (b & 0x007fu) != 0; }
bool is_nan_fp16(std::uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0; }

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

const std::vector<std::string> kDtypes = {"f32", "bf16", "fp16", "int8"};

Dtype dtype_named(const std::string& name) {
    return with_dtype(name, [](auto s) { return dtype_of<decltype(s)>(); });
}

// Float inputs every converter test runs: specials, boundaries, subnormals, and a sweep over
// the bit patterns (every 4099th, so every exponent and many fractions), both signs.
std::vector<float> converter_inputs() {
    std::vector<float> x;
    for (std::uint32_t bits : {0x00000000u, 0x00000001u, 0x00008000u, 0x00018000u, 0x007fffffu, 0x00800000u,
                               0x33000000u, 0x33000001u, 0x387fc000u, 0x38800000u, 0x3f800000u, 0x3f808000u,
                               0x3f818000u, 0x477fe000u, 0x477fefffu, 0x477ff000u, 0x47800000u, 0x7f7f8000u,
                               0x7f7fffffu, 0x7f800000u, 0x7f800001u, 0x7fc00000u, 0x7fffffffu, 0x7fa00000u})
        for (std::uint32_t sign : {0u, 0x80000000u}) x.push_back(from_bits(bits | sign));
    for (std::uint64_t bits = 0; bits < (std::uint64_t(1) << 32); bits += 4099)
        x.push_back(from_bits(static_cast<std::uint32_t>(bits)));
    return x;
}

// ---- Data and references for the accuracy tests ---------------------------------------

struct Tokens {
    std::size_t heads, tokens, dim;
    std::vector<float> q, k1, k2, v1, v2;  // [tokens, heads·dim], as Cache::append takes them
    const float* at(const std::vector<float>& s, std::size_t t) const { return s.data() + t * heads * dim; }
};

Tokens make_tokens(const std::string& kind, std::size_t heads, std::size_t tokens, std::size_t dim, std::uint64_t seed) {
    DataSpec spec;
    spec.kind = parse_kind<DataKind>(kind, "data.kind");
    const TokenData data = make_token_data(spec, heads, tokens, dim, seed);
    Tokens out{heads, tokens, dim, {}, {}, {}, {}, {}};
    auto flatten = [&](const Heads<double>& x, std::vector<float>& to) {
        to.resize(tokens * heads * dim);
        for (std::size_t t = 0; t < tokens; ++t)
            for (std::size_t h = 0; h < heads; ++h)
                for (std::size_t l = 0; l < dim; ++l) to[(t * heads + h) * dim + l] = static_cast<float>(x(h, t, l));
    };
    flatten(data.q, out.q), flatten(data.k1, out.k1), flatten(data.k2, out.k2);
    flatten(data.v1, out.v1), flatten(data.v2, out.v2);
    return out;
}

// The token counts after which the accuracy tests attend (with query t − 1).
std::vector<std::size_t> attend_points(std::size_t tokens) { return {1, 2, 7, tokens / 3, tokens / 2 + 1, tokens}; }

// Appends every token and attends at attend_points; returns the [heads·dim] outputs.
std::vector<std::vector<float>> run(Cache& cache, const Tokens& x) {
    std::vector<std::vector<float>> outputs;
    const std::vector<std::size_t> points = attend_points(x.tokens);
    for (std::size_t t = 0; t < x.tokens; ++t) {
        cache.append(1, x.at(x.k1, t), x.at(x.k2, t), x.at(x.v1, t), x.at(x.v2, t));
        if (std::find(points.begin(), points.end(), t + 1) == points.end()) continue;
        std::vector<float> out(x.heads * x.dim);
        cache.attend(1, x.at(x.q, t), out.data());
        outputs.push_back(std::move(out));
    }
    return outputs;
}

// One row as a cache of dtype S stores it: encoded, then decoded to float (portable path).
template <class S>
std::vector<float> dequantised(const float* row, std::size_t dim) {
    std::vector<float> out(row, row + dim);
    if constexpr (std::is_same_v<S, std::int8_t>) {
        std::vector<std::int8_t> q(dim);
        const float scale = portable::encode(row, q.data(), dim);
        portable::decode(q.data(), &scale, 1, dim, out.data());
    } else if constexpr (!std::is_same_v<S, float>) {
        std::vector<S> s(dim);
        portable::encode(row, s.data(), dim);
        portable::decode(s.data(), out.data(), dim);
    }
    return out;
}

// Float64 attention on exactly what a cache of dtype S holds, at attend_points:
//   factor:  the dequantised factor rows, reference::tensor_decode;
//   product: each pair row formed in float (k1_il·k2_jl, as the cache does), dequantised,
//            reference::matrix_decode over all (t+1)² of them.
template <class S>
std::vector<std::vector<double>> reference_on_stored(const Tokens& x, bool product, double scale) {
    const std::size_t d = x.dim;
    std::vector<std::vector<double>> outputs;
    for (std::size_t n : attend_points(x.tokens)) {
        std::vector<double> out;
        for (std::size_t h = 0; h < x.heads; ++h) {
            const float* query = x.at(x.q, n - 1) + h * d;
            Vector<double> q = xt::zeros<double>({d});
            for (std::size_t l = 0; l < d; ++l) q(l) = query[l];
            Vector<double> o;
            if (product) {
                Matrix<double> keys = xt::zeros<double>({n * n, d}), values = xt::zeros<double>({n * n, d});
                std::vector<float> key(d), value(d);
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t j = 0; j < n; ++j) {
                        const float *k1 = x.at(x.k1, i) + h * d, *k2 = x.at(x.k2, j) + h * d;
                        const float *v1 = x.at(x.v1, i) + h * d, *v2 = x.at(x.v2, j) + h * d;
                        for (std::size_t l = 0; l < d; ++l) key[l] = k1[l] * k2[l], value[l] = v1[l] * v2[l];
                        const std::vector<float> kq = dequantised<S>(key.data(), d), vq = dequantised<S>(value.data(), d);
                        for (std::size_t l = 0; l < d; ++l) keys(i * n + j, l) = kq[l], values(i * n + j, l) = vq[l];
                    }
                o = reference::matrix_decode(q, keys, values, n * n, scale);
            } else {
                Matrix<double> f[4];
                const std::vector<float>* streams[4] = {&x.k1, &x.k2, &x.v1, &x.v2};
                for (int s = 0; s < 4; ++s) {
                    f[s] = xt::zeros<double>({n, d});
                    for (std::size_t t = 0; t < n; ++t) {
                        const std::vector<float> row = dequantised<S>(x.at(*streams[s], t) + h * d, d);
                        for (std::size_t l = 0; l < d; ++l) f[s](t, l) = row[l];
                    }
                }
                o = reference::tensor_decode(q, f[0], f[1], f[2], f[3], n, scale);
            }
            out.insert(out.end(), o.begin(), o.end());
        }
        outputs.push_back(std::move(out));
    }
    return outputs;
}

}  // namespace

// ---- Conversions ------------------------------------------------------------------------

TEST_CASE("bf16: round to nearest even, ties, NaN, ±inf, subnormals", "[dtypes]") {
    const std::vector<std::pair<std::uint32_t, std::uint16_t>> cases = {
        {0x3f800000, 0x3f80},  // 1
        {0x3f807fff, 0x3f80},  // just below the tie: down
        {0x3f808000, 0x3f80},  // tie, kept bit even: stays
        {0x3f808001, 0x3f81},  // just above the tie: up
        {0x3f818000, 0x3f82},  // tie, kept bit odd: up to even
        {0xbf818000, 0xbf82},  // the same, negative
        {0x3fff8000, 0x4000},  // tie carrying into the exponent: 2
        {0x7f7f7fff, 0x7f7f},  // just below the tie at bf16's max: stays finite
        {0x7f7f8000, 0x7f80},  // tie at bf16's max: odd, rounds up to inf
        {0x7f7fffff, 0x7f80},  // FLT_MAX: inf
        {0x7f800000, 0x7f80},  // +inf
        {0xff800000, 0xff80},  // -inf
        {0x7fc00000, 0x7fc0},  // quiet NaN
        {0xffc00000, 0xffc0},  // negative quiet NaN
        {0x7f800001, 0x7fc0},  // NaN whose payload is all in the dropped bits: stays NaN, not inf
        {0x7fffffff, 0x7fff},  // NaN with a full payload: no carry into the sign
        {0x00000000, 0x0000},  // +0
        {0x80000000, 0x8000},  // -0
        {0x00000001, 0x0000},  // smallest subnormal: down to 0
        {0x00008000, 0x0000},  // subnormal tie, even: stays
        {0x00018000, 0x0002},  // subnormal tie, odd: up
        {0x00010000, 0x0001},  // a bf16 subnormal, exact
        {0x007fffff, 0x0080},  // largest subnormal: up to the smallest normal
    };
    for (const auto& [in, want] : cases) {
        INFO("float bits 0x" << std::hex << in);
        CHECK(to_bf16(from_bits(in)).bits == want);
    }
    CHECK(to_float(bf16{0x3f80}) == 1.0f);
    CHECK(to_float(bf16{0x0001}) == std::ldexp(1.0f, -133));
    CHECK(to_float(bf16{0x7f80}) == std::numeric_limits<float>::infinity());
    CHECK(to_float(bf16{0xff80}) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(to_float(bf16{0x7fc0})));
    CHECK(std::signbit(to_float(bf16{0x8000})));

    // Every bf16 survives the round trip through float; NaNs stay NaN of the same sign.
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
        const std::uint16_t back = to_bf16(to_float(bf16{static_cast<std::uint16_t>(b)})).bits;
        if (is_nan_bf16(static_cast<std::uint16_t>(b))) {
            REQUIRE(is_nan_bf16(back));
            REQUIRE((back & 0x8000u) == (b & 0x8000u));
        } else {
            REQUIRE(back == b);
        }
    }
}

TEST_CASE("fp16: IEEE half, round to nearest even, overflow to inf, subnormals, NaN", "[dtypes]") {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<std::pair<float, std::uint16_t>> cases = {
        {1.0f, 0x3c00},
        {-2.0f, 0xc000},
        {1.0f + 0x1p-11f, 0x3c00},            // tie, even: stays
        {1.0f + 3 * 0x1p-11f, 0x3c02},        // tie, odd: up
        {1.0f + 0x1p-11f + 0x1p-20f, 0x3c01},  // above the tie: up
        {65504.0f, 0x7bff},                   // largest half
        {std::nextafter(65520.0f, 0.0f), 0x7bff},
        {65520.0f, 0x7c00},  // tie between the largest half and 2^16: even is inf
        {1e6f, 0x7c00},
        {-1e6f, 0xfc00},
        {inf, 0x7c00},
        {-inf, 0xfc00},
        {0x1p-14f, 0x0400},                  // smallest normal
        {0x1p-24f, 0x0001},                  // smallest subnormal
        {0x1p-25f, 0x0000},                  // tie, even: 0
        {0x1p-25f + 0x1p-35f, 0x0001},       // above the tie
        {3 * 0x1p-25f, 0x0002},              // tie, odd: up
        {0x1p-14f - 0x1p-25f, 0x0400},       // tie carrying into the smallest normal
        {1e-40f, 0x0000},                    // float subnormal: 0
        {-1e-40f, 0x8000},                   // and -0
    };
    for (const auto& [in, want] : cases) {
        INFO("float " << in);
        CHECK(to_fp16(in).bits == want);
    }
    CHECK(is_nan_fp16(to_fp16(std::numeric_limits<float>::quiet_NaN()).bits));
    CHECK(is_nan_fp16(to_fp16(from_bits(0x7f800001)).bits));  // payload only in dropped bits: still NaN
    CHECK(to_float(fp16{0x7bff}) == 65504.0f);
    CHECK(to_float(fp16{0x0001}) == 0x1p-24f);
    CHECK(to_float(fp16{0x7c00}) == inf);
    CHECK(to_float(fp16{0xfc00}) == -inf);
    CHECK(std::isnan(to_float(fp16{0x7e00})));
    CHECK(std::signbit(to_float(fp16{0x8000})));

    // Every half survives the round trip through float; NaNs stay NaN of the same sign.
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        const std::uint16_t back = to_fp16(to_float(fp16{static_cast<std::uint16_t>(h)})).bits;
        if (is_nan_fp16(static_cast<std::uint16_t>(h))) {
            REQUIRE(is_nan_fp16(back));
            REQUIRE((back & 0x8000u) == (h & 0x8000u));
        } else {
            REQUIRE(back == h);
        }
    }
}

TEST_CASE("int8: symmetric per-row scales, error at most max|x|/254", "[dtypes]") {
    for (const bool dispatched : {false, true}) {
        INFO((dispatched ? "dispatched" : "portable"));
        auto encode_row = [&](const std::vector<float>& x, std::vector<std::int8_t>& q) {
            q.resize(x.size());
            return dispatched ? encode(x.data(), q.data(), x.size()) : portable::encode(x.data(), q.data(), x.size());
        };
        std::vector<std::int8_t> q;
        // Hand-picked: scale = 1/127; 63.5 is a tie (to even: 64), 31.75 rounds to 32.
        const float scale = encode_row({0.5f, -1.0f, 0.25f, 0.0f}, q);
        CHECK(scale == 1.0f / 127.0f);
        CHECK(q == std::vector<std::int8_t>{64, -127, 32, 0});

        CHECK(encode_row({0.0f, -0.0f, 0.0f}, q) == 0.0f);  // all zero: scale 0, decodes to 0
        CHECK(q == std::vector<std::int8_t>{0, 0, 0});
        CHECK(std::isnan(encode_row({1.0f, std::numeric_limits<float>::infinity()}, q)));  // decodes to NaN
        CHECK(std::isnan(encode_row({std::numeric_limits<float>::quiet_NaN(), 1.0f}, q)));

        Rng rng(11);
        for (std::size_t n = 1; n <= 70; ++n) {
            std::vector<float> x(n), back(n);
            const double sigma = std::pow(10.0, rng.uniform() * 8 - 4);
            for (float& v : x) v = static_cast<float>(sigma * rng.normal());
            const float s = encode_row(x, q);
            decode(q.data(), &s, 1, n, back.data());
            float top = 0;
            for (float v : x) top = std::max(top, std::abs(v));
            INFO("n = " << n);
            for (std::size_t l = 0; l < n; ++l) {
                REQUIRE(std::abs(back[l] - x[l]) <= top / 254.0f * (1 + 1e-5f));
                REQUIRE(std::abs(static_cast<int>(q[l])) <= 127);
            }
        }
    }
}

TEST_CASE("portable and dispatched converters give bit-identical results", "[dtypes]") {
    // Decoding: every 16-bit pattern.
    std::vector<std::uint16_t> all(0x10000);
    for (std::uint32_t i = 0; i < 0x10000; ++i) all[i] = static_cast<std::uint16_t>(i);
    std::vector<float> a(all.size()), b(all.size());
    decode(reinterpret_cast<const bf16*>(all.data()), a.data(), all.size());
    portable::decode(reinterpret_cast<const bf16*>(all.data()), b.data(), all.size());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    decode(reinterpret_cast<const fp16*>(all.data()), a.data(), all.size());
    portable::decode(reinterpret_cast<const fp16*>(all.data()), b.data(), all.size());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);

    // Encoding: specials, boundaries and a sweep of bit patterns, whole and in short unaligned
    // slices (the SIMD paths' tails).
    const std::vector<float> x = converter_inputs();
    std::vector<bf16> b1(x.size()), b2(x.size());
    std::vector<fp16> h1(x.size()), h2(x.size());
    encode(x.data(), b1.data(), x.size());
    portable::encode(x.data(), b2.data(), x.size());
    CHECK(std::memcmp(b1.data(), b2.data(), x.size() * sizeof(bf16)) == 0);
    encode(x.data(), h1.data(), x.size());
    portable::encode(x.data(), h2.data(), x.size());
    CHECK(std::memcmp(h1.data(), h2.data(), x.size() * sizeof(fp16)) == 0);
    for (std::size_t offset = 0; offset < 8; ++offset)
        for (std::size_t n = 0; n < 40; ++n) {
            std::vector<fp16> s1(n), s2(n);
            encode(x.data() + offset, s1.data(), n);
            portable::encode(x.data() + offset, s2.data(), n);
            // n = 0 checks the empty slice is handled; memcmp must not see its null data().
            REQUIRE((n == 0 || std::memcmp(s1.data(), s2.data(), n * sizeof(fp16)) == 0));
            std::vector<float> f1(n), f2(n);
            decode(reinterpret_cast<const fp16*>(all.data()) + 1000 + offset, f1.data(), n);
            portable::decode(reinterpret_cast<const fp16*>(all.data()) + 1000 + offset, f2.data(), n);
            REQUIRE((n == 0 || std::memcmp(f1.data(), f2.data(), n * sizeof(float)) == 0));
        }

    // int8: rows of every length up to 70 (and a long one), scales and values.
    Rng rng(12);
    for (std::size_t n : {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 70, 1000}) {
        std::vector<float> row(n);
        for (float& v : row) v = static_cast<float>(rng.normal() * 3);
        std::vector<std::int8_t> q1(n), q2(n);
        const float s1 = encode(row.data(), q1.data(), n), s2 = portable::encode(row.data(), q2.data(), n);
        INFO("n = " << n);
        CHECK(std::bit_cast<std::uint32_t>(s1) == std::bit_cast<std::uint32_t>(s2));
        CHECK(q1 == q2);
        const float scales[2] = {s1, 0.25f};
        std::vector<std::int8_t> two(2 * n);
        std::copy(q1.begin(), q1.end(), two.begin());
        std::copy(q1.begin(), q1.end(), two.begin() + n);
        std::vector<float> d1(2 * n), d2(2 * n);
        decode(two.data(), scales, 2, n, d1.data());
        portable::decode(two.data(), scales, 2, n, d2.data());
        CHECK(std::memcmp(d1.data(), d2.data(), d1.size() * sizeof(float)) == 0);
    }
    // Many more rows, for the rare products that land within a rounding of a half-integer
    // (where a contracted multiply-add would round differently).
    for (int trial = 0; trial < 5000; ++trial) {
        const std::size_t n = 1 + static_cast<std::size_t>(rng.uniform() * 80);
        std::vector<float> row(n);
        for (float& v : row) v = static_cast<float>(rng.normal());
        std::vector<std::int8_t> q1(n), q2(n);
        const float s1 = encode(row.data(), q1.data(), n), s2 = portable::encode(row.data(), q2.data(), n);
        REQUIRE(std::bit_cast<std::uint32_t>(s1) == std::bit_cast<std::uint32_t>(s2));
        REQUIRE(q1 == q2);
    }
}

// ---- Memory ------------------------------------------------------------------------------

TEST_CASE("bytes() per dtype equals the layout formula, scales included", "[dtypes][memory]") {
    // b = bytes per scalar (4, 2, 2, 1); s = 4 bytes of scale per stored int8 row slot (row
    // slots are whole chunks: the scales are allocated chunk by chunk beside the rows).
    //   product: h·[4·⌈T/256⌉·256·d·4 + 2·⌈T²/1024⌉·1024·(d·b + s) + index]  (factors stay f32;
    //            pair rows in slabs of 1024, index: p pointers per tile, 4·bit_ceil(slabs) tiles,
    //            p = 2 (keys, values) or 4 (their scales too))
    //   factor:  h·4·⌈T/256⌉·256·(d·b + s)
    const std::map<std::string, std::size_t> scalar_bytes = {{"f32", 4}, {"bf16", 2}, {"fp16", 2}, {"int8", 1}};
    for (const std::string& dtype : kDtypes) {
        const std::size_t b = scalar_bytes.at(dtype), s = dtype == "int8" ? 4 : 0;
        {
            const std::size_t h = 2, d = 5;
            const std::unique_ptr<Cache> cache = make_cache("product:dtype=" + dtype, {h, d, 0.2});
            CHECK(cache->bytes() == 0);
            const Tokens x = make_tokens("gaussian", h, 257, d, 1);
            for (std::size_t tokens : {1, 2, 32, 33, 46, 257}) {
                while (cache->size() < tokens) {
                    const std::size_t t = cache->size();
                    cache->append(1, x.at(x.k1, t), x.at(x.k2, t), x.at(x.v1, t), x.at(x.v2, t));
                }
                const std::size_t slabs = round_up(tokens * tokens, 1024) / 1024;
                const std::size_t index = (s ? 4 : 2) * (1024 / kStreamTileRows) * std::bit_ceil(slabs) * sizeof(void*);
                const std::size_t want =
                    h * (4 * round_up(tokens, 256) * d * 4 + 2 * round_up(tokens * tokens, 1024) * (d * b + s) + index);
                INFO("product:dtype=" << dtype << ", T = " << tokens);
                CHECK(cache->bytes() == want);
                CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
            }
            cache->clear();
            CHECK(cache->bytes() == 0);
            cache->reserve(70);
            CHECK(static_cast<double>(cache->bytes()) == cache->cost(70).resident_bytes);
        }
        for (const char* strategy : {"fused", "recompute"}) {
            const std::string spec = std::string("factor:strategy=") + strategy + ",dtype=" + dtype;
            const std::size_t h = 3, d = 5;
            const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, 0.2});
            CHECK(cache->spec() == spec);
            const Tokens x = make_tokens("gaussian", h, 513, d, 2);
            for (std::size_t tokens : {1, 256, 257, 513}) {
                while (cache->size() < tokens) {
                    const std::size_t t = cache->size();
                    cache->append(1, x.at(x.k1, t), x.at(x.k2, t), x.at(x.v1, t), x.at(x.v2, t));
                }
                INFO(spec << ", T = " << tokens);
                CHECK(cache->bytes() == h * 4 * round_up(tokens, 256) * (d * b + s));
                CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
            }
            cache->clear();
            CHECK(cache->bytes() == 0);
        }
    }
}

TEST_CASE("decoding reduced dtypes costs exactly the declared tiles of scratch", "[dtypes][memory]") {
    // One thread: one reducer per head, heads one after another, so the peak is one head's
    // tiles. A reduced dtype adds decoded K2 and V2 tiles (factor, fused: a block's K1 and V1
    // rows are decoded into them between tiles), whatever n is; product's streaming kernel
    // reads the stored rows in place and adds nothing.
    const std::size_t h = 2, d = 16;
    ThreadControl one_thread(1);
    const Tokens x = make_tokens("gaussian", h, 600, d, 3);
    auto peak = [&](const std::string& spec, std::size_t tokens) {
        const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, 1.0 / d});
        for (std::size_t t = 0; t < tokens; ++t) cache->append(1, x.at(x.k1, t), x.at(x.k2, t), x.at(x.v1, t), x.at(x.v2, t));
        std::vector<float> out(h * d);
        cache->attend(1, x.at(x.q, 0), out.data());
        return cache->transient_peak_bytes();
    };
    const std::size_t fused = peak("factor:dtype=f32", 300), product = peak("product:dtype=f32", 60);
    // bf16 dot products (avx512bf16) add the low part of P: a block's rows × a tile's column
    // pairs (tensor_attention.cpp, fold_tile_bf16).
    const std::size_t bf16_dot_bytes =
        pair_tile_bf16::available() ? kPairBlockRows * kPairTileRows / 2 * sizeof(std::uint32_t) : 0;
    for (const std::string dtype : {"bf16", "fp16", "int8"}) {
        INFO(dtype);
        for (std::size_t n : {300, 600})
            CHECK(peak("factor:dtype=" + dtype, n) ==
                  fused + 2 * kPairTileRows * d * sizeof(float) + (dtype == "bf16" ? bf16_dot_bytes : 0));
        for (std::size_t n : {60, 100})
            CHECK(peak("product:dtype=" + dtype, n) == product);
    }
}

// ---- Accuracy ------------------------------------------------------------------------------

TEST_CASE("every dtype is within its bound of float64 and the errors are ordered", "[dtypes][accuracy]") {
    struct Setup {
        std::size_t dim;
        double scale;
        std::size_t tokens;
    };
    for (const std::string kind : {"gaussian", "clustered"})
        for (const Setup setup : {Setup{16, 0.25, 80}, Setup{64, 1.0 / 64, 80}})
            for (const std::string base : {"product", "factor:strategy=fused", "factor:strategy=recompute"}) {
                const std::size_t h = 2;
                const CacheShape shape{h, setup.dim, setup.scale};
                const Tokens x = make_tokens(kind, h, setup.tokens, setup.dim, 42);
                const std::unique_ptr<Cache> reference = make_cache("reference", shape);
                const std::vector<std::vector<float>> want = run(*reference, x);
                std::map<std::string, double> rms;  // over the attends, per dtype
                for (const std::string& dtype : kDtypes) {
                    const std::string spec = base + (base == "product" ? ":" : ",") + "dtype=" + dtype;
                    INFO(spec << ", " << kind << " data, d = " << setup.dim);
                    const std::unique_ptr<Cache> cache = make_cache(spec, shape);
                    const std::vector<std::vector<float>> got = run(*cache, x);
                    REQUIRE(got.size() == want.size());
                    const double tolerance = storage_tolerance(dtype_named(dtype));
                    double sum = 0, worst = 0;
                    for (std::size_t a = 0; a < got.size(); ++a) {
                        const double error = relative_l2(got[a], want[a]);
                        CHECK(error <= tolerance);
                        sum += error * error;
                        worst = std::max(worst, error);
                    }
                    rms[dtype] = std::sqrt(sum / static_cast<double>(got.size()));
                    report_error("dtypes " + spec + " " + kind + " d=" + std::to_string(setup.dim) + " worst (" +
                                     std::to_string(worst / unit_roundoff(dtype_named(dtype))) + "u)",
                                 worst, tolerance);
                }
                INFO(base << ", " << kind << " data, d = " << setup.dim << ": rms error f32 " << rms["f32"] << ", fp16 "
                          << rms["fp16"] << ", bf16 " << rms["bf16"] << ", int8 " << rms["int8"]);
                CHECK(rms["f32"] < rms["fp16"]);
                CHECK(rms["fp16"] < rms["bf16"]);
                CHECK(rms["f32"] < rms["int8"]);
            }
}

TEST_CASE("on its dequantised rows every dtype is exact to float tolerance", "[dtypes][accuracy]") {
    // The float64 reference fed exactly what the cache stores (rows encoded and decoded) agrees
    // with the cache like an f32 cache agrees with the reference: all the error above is the
    // storage's rounding, none the kernels'.
    const std::size_t h = 2, d = 16, tokens = 40;
    const double scale = 0.25;
    const Tokens x = make_tokens("gaussian", h, tokens, d, 7);
    // Every exact kernel path: the bf16 dot products round A = scale·K1∘q once more (bounded in
    // test_isa_paths.cpp), so this runs below avx512bf16.
    const IsaOverride exact_kernels(std::min(detected_isa(), Isa::avx512));
    for (const std::string base : {"product", "factor:strategy=fused", "factor:strategy=recompute"})
        for (const std::string& dtype : kDtypes) {
            const std::string spec = base + (base == "product" ? ":" : ",") + "dtype=" + dtype;
            INFO(spec);
            const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, scale});
            const std::vector<std::vector<float>> got = run(*cache, x);
            const bool product = base == "product";
            const std::vector<std::vector<double>> want = with_dtype(dtype, [&](auto s) {
                return reference_on_stored<decltype(s)>(x, product, scale);
            });
            REQUIRE(got.size() == want.size());
            double worst = 0;
            for (std::size_t a = 0; a < got.size(); ++a) worst = std::max(worst, relative_l2(got[a], want[a]));
            report_error("dtypes dequantised " + spec, worst, kCacheTolerance);
            CHECK(worst <= kCacheTolerance);
        }
}

TEST_CASE("dtype is a parameter of product and factor, spelled in canonical specs", "[dtypes][registry]") {
    CHECK(parse_cache_spec("product").canonical() == "product:dtype=f32");
    CHECK(parse_cache_spec("factor").canonical() == "factor:strategy=fused,dtype=f32");
    CHECK(parse_cache_spec("factor:dtype=bf16").canonical() == "factor:strategy=fused,dtype=bf16");
    CHECK(parse_cache_spec("factor:dtype=int8,strategy=recompute").canonical() == "factor:strategy=recompute,dtype=int8");
    CHECK(make_cache("product:dtype=fp16", {1, 4, 0.25})->spec() == "product:dtype=fp16");
    CHECK_THROWS_WITH(parse_cache_spec("product:dtype=f16"), Contains("f32|bf16|fp16|int8"));
}
