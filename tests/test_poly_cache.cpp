// poly:degree=p (caches/poly_cache.cpp): the polynomial method. Held, in every score variant
// (docs/math.md §9), to a float64 loop over every pair of the SAME truncated series Σ_k s^k/k!
// (so the moment algebra is checked exactly), to exact attention as the scale shrinks (the
// error must fall like B^(p+1), B = max|s|), to block-equals-tokens, clear-and-reuse, its byte
// formulas (independent of n and of the variant for the state) and its guards (odd degree with a
// normaliser ≤ 0, a state too large to allocate).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "attention/reference.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "conformance.hpp"
#include "framework/error.hpp"
#include "framework/threads.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

constexpr ScoreVariant kVariants[] = {ScoreVariant::trilinear, ScoreVariant::rank1, ScoreVariant::strassen};

// The score of pair (i, j) for query head `head` of q, in float64, each variant's terms as
// docs/math.md §9 writes them, k2 shifted by the shape's bias as Cache::append shifts it.
double pair_score(const CacheData& data, const CacheShape& shape, const float* q, std::size_t head, std::size_t i,
                  std::size_t j) {
    const std::size_t d = shape.dim, c = shape.kv_head_of(head) * d;
    double q_k1 = 0, q_k2 = 0, k1_k2 = 0, trilinear = 0;
    for (std::size_t l = 0; l < d; ++l) {
        const double ql = q[head * d + l], a = data.k1(i, c + l), b = double(data.k2(j, c + l)) + shape.k2_bias;
        q_k1 += ql * a;
        q_k2 += ql * b;
        k1_k2 += a * b;
        trilinear += ql * a * b;
    }
    switch (shape.variant) {
        case ScoreVariant::trilinear: return shape.scale * trilinear;
        case ScoreVariant::rank1: return shape.scale * (q_k1 + q_k2);
        case ScoreVariant::strassen: return shape.scale * (q_k1 + q_k2 + k1_k2);
    }
    return 0;
}

// max |s| over every head and pair of q over tokens [0, t].
double largest_score(const CacheData& data, const CacheShape& shape, const float* q, std::size_t t) {
    double largest = 0;
    for (std::size_t head = 0; head < shape.heads; ++head)
        for (std::size_t i = 0; i <= t; ++i)
            for (std::size_t j = 0; j <= t; ++j) largest = std::max(largest, std::abs(pair_score(data, shape, q, head, i, j)));
    return largest;
}

// Attention of q over tokens [0, t], every head, with pair weights weight(s), as literal
// float64 loops over the pairs (i, j): Σ w(s_ij)·v1_i∘v2_j / Σ w(s_ij), v2 shifted by its bias.
template <class Weight>
std::vector<double> pair_loop_attention(const CacheData& data, const CacheShape& shape, const float* q, std::size_t t,
                                        Weight weight) {
    const std::size_t d = shape.dim;
    std::vector<double> out(shape.heads * d, 0.0);
    for (std::size_t head = 0; head < shape.heads; ++head) {
        const std::size_t c = shape.kv_head_of(head) * d;
        double* o = out.data() + head * d;
        double norm = 0;
        for (std::size_t i = 0; i <= t; ++i)
            for (std::size_t j = 0; j <= t; ++j) {
                const double w = weight(pair_score(data, shape, q, head, i, j));
                norm += w;
                for (std::size_t l = 0; l < d; ++l)
                    o[l] += w * double(data.v1(i, c + l)) * (double(data.v2(j, c + l)) + shape.v2_bias);
            }
        for (std::size_t l = 0; l < d; ++l) o[l] /= norm;
    }
    return out;
}

// CacheData with one query per token (its random step sequence may hold fewer).
CacheData token_data(Rng& rng, std::size_t h, std::size_t kv, std::size_t d, std::size_t tokens) {
    CacheData data(rng, h, kv, d, tokens);
    data.q = random_matrix<float>(rng, tokens, h * d);
    return data;
}

double taylor_exp(double s, std::size_t degree) {
    double term = 1, sum = 1;
    for (std::size_t k = 1; k <= degree; ++k) sum += (term *= s / double(k));
    return sum;
}

// Appends data's tokens one by one; after token t attends query t (rows of data.q are used
// as queries in order). Returns the outputs, [h·d] each.
std::vector<std::vector<float>> decode_all(Cache& cache, const CacheData& data, std::size_t tokens) {
    const std::size_t width = data.heads * data.dim;
    std::vector<std::vector<float>> outputs;
    for (std::size_t t = 0; t < tokens; ++t) {
        cache.append(1, &data.k1(t, 0), &data.k2(t, 0), &data.v1(t, 0), &data.v2(t, 0));
        std::vector<float> out(width);
        cache.attend(1, &data.q(t, 0), out.data());
        outputs.push_back(std::move(out));
    }
    return outputs;
}

// C(n, k) in float64 (small arguments: exact).
double choose(std::size_t n, std::size_t k) {
    double c = 1;
    for (std::size_t j = 1; j <= k; ++j) c = c * double(n - k + j) / double(j);
    return c;
}

// C(d+p, p) monomials of degree ≤ p, each with A (1 value) and B (d values), float64, per
// head and stream (the documented formula).
double poly_bytes(std::size_t h, std::size_t d, std::size_t p) { return double(h) * 2 * choose(d + p, p) * double(d + 1) * sizeof(double); }

// One head's attend scratch, the documented formula: C(d+p,p) weighted monomials and a row of
// d + 1 sums; rank1 and strassen add both streams' partial moments P(u), u = 1..p, a row for each
// multiset R of size ≤ min(r_max, p − u) (r_max: 0 for rank1, p for strassen), and a running row.
double poly_scratch_bytes(std::size_t d, std::size_t p, ScoreVariant variant) {
    double rows = 1;
    if (variant != ScoreVariant::trilinear) {
        const std::size_t r_max = variant == ScoreVariant::strassen ? p : 0;
        for (std::size_t u = 1; u <= p; ++u) rows += 2 * choose(d + std::min(r_max, p - u), std::min(r_max, p - u));
        rows += 1;
    }
    return (choose(d + p, p) + rows * double(d + 1)) * sizeof(double);
}

std::string spec_of(std::size_t degree) { return "poly:degree=" + std::to_string(degree); }

}  // namespace

TEST_CASE("poly is registered as approximate, with canonical spec, validated degree and every variant", "[caches][poly]") {
    CHECK_FALSE(find_cache_type("poly").exact);
    CHECK(make_cache("poly", {2, 4, 0.25})->spec() == "poly:degree=2");
    CHECK(make_cache("poly:degree=3", {2, 4, 0.25})->spec() == "poly:degree=3");
    CHECK(parse_cache_spec("poly:degree=1").canonical() == "poly:degree=1");
    CHECK_THROWS_AS(parse_cache_spec("poly:degree=0"), Error);
    CHECK_THROWS_AS(parse_cache_spec("poly:degree=4"), Error);
    CHECK_THROWS_AS(parse_cache_spec("poly:degree=2.5"), Error);
    // d = 64 at degree 3 fits (~50 MB of moments per head); d = 128 (~755 MB) is refused
    // when the cache is made, naming degree and dim.
    CHECK_NOTHROW(make_cache("poly:degree=3", {1, 64, 1.0 / 64}));
    CHECK_THROWS_WITH(make_cache("poly:degree=3", {1, 128, 1.0 / 128}), Catch::Contains("degree=3 at dim=128"));
    for (std::size_t degree : {1, 2, 3}) {
        const std::vector<ScoreVariant> variants = supported_variants(parse_cache_spec(spec_of(degree)));
        CHECK(variants == std::vector<ScoreVariant>(std::begin(kVariants), std::end(kVariants)));
        for (ScoreVariant variant : kVariants) CHECK_NOTHROW(make_cache(spec_of(degree), {4, 8, 0.125, 2, variant}));
    }
}

TEST_CASE("poly equals a float64 loop over every pair of the same truncated series, in every variant", "[caches][poly]") {
    // Each variant sums 1, 2 or 3 dot products of variance scale²·d for these gaussian inputs,
    // so scale = 1/√(8·d·terms) gives every score a standard deviation of 1/√8 (the default scale
    // 1/d at d = 8; B ≈ 1): every degree's terms matter (s³/3! ~ 1e-2, far above the
    // tolerance), while no single pair's score reaches the odd degrees' negative weights.
    struct Case {
        std::size_t heads, kv_heads, dim;
        bool bias;
    };
    const Case cases[] = {{2, 2, 3, false}, {2, 2, 8, false}, {2, 2, 16, false}, {4, 2, 4, true}, {4, 2, 8, true}};
    const std::size_t tokens = 24;
    std::uint64_t seed = 500;
    for (ScoreVariant variant : kVariants) {
        const double terms = variant == ScoreVariant::trilinear ? 1 : variant == ScoreVariant::rank1 ? 2 : 3;
        for (std::size_t degree : {1, 2, 3}) {
            for (const Case& c : cases) {
                const std::size_t d = c.dim;
                CacheShape shape{c.heads, d, 1 / std::sqrt(8 * double(d) * terms), c.kv_heads, variant};
                if (c.bias) shape = with_reference_bias(shape);
                INFO(variant_name(variant) << ", degree " << degree << ", heads " << c.heads << "/" << c.kv_heads << ", d = "
                                           << d << ", bias " << shape.k2_bias << "/" << shape.v2_bias << ", seed " << seed + 1);
                Rng rng(++seed);
                const CacheData data = token_data(rng, c.heads, c.kv_heads, d, tokens);
                const std::unique_ptr<Cache> cache = make_cache(spec_of(degree), shape);
                const auto outputs = decode_all(*cache, data, tokens);
                double worst = 0;
                for (std::size_t t = 0; t < tokens; ++t) {
                    const auto want = pair_loop_attention(data, shape, &data.q(t, 0), t,
                                                          [&](double s) { return taylor_exp(s, degree); });
                    REQUIRE(all_finite(outputs[t]));
                    const double error = relative_l2(outputs[t], want);
                    worst = std::max(worst, error);
                    INFO("t = " << t);
                    CHECK(error <= kCacheTolerance);
                }
                report_error("poly degree=" + std::to_string(degree) + " " + variant_name(variant) + " h=" +
                                 std::to_string(c.heads) + "/" + std::to_string(c.kv_heads) + " d=" + std::to_string(d) +
                                 " vs its series",
                             worst, kCacheTolerance);
            }
        }
    }
}

TEST_CASE("poly approaches exact attention as the scale shrinks, its error falling like B^(p+1), in every variant",
          "[caches][poly]") {
    // d = 8 at scale 1/d: B ≈ 1–2 for these gaussian inputs, then the scale is halved twice (so
    // is B, in every variant). The leading error term is the first dropped one, s^(p+1)/(p+1)!,
    // so each halving should divide the error by ~2^(p+1); asserting at least 2^p leaves room for
    // the higher-order terms at B ≈ 1 and still fails for an error that does not shrink with B
    // at the predicted order. Exact attention is reference::tensor_decode in the variant.
    const std::size_t h = 1, d = 8, tokens = 16;
    Rng rng(600);
    const CacheData data = token_data(rng, h, h, d, tokens);
    const Matrix<double> k1 = to_double(data.k1), k2 = to_double(data.k2), v1 = to_double(data.v1), v2 = to_double(data.v2);
    for (ScoreVariant variant : kVariants) {
        for (std::size_t degree : {1, 2, 3}) {
            std::vector<double> errors, bounds;
            for (double shrink : {1.0, 0.5, 0.25}) {
                const CacheShape shape{h, d, default_tensor_scale(d) * shrink, h, variant};
                const std::unique_ptr<Cache> cache = make_cache(spec_of(degree), shape);
                const auto outputs = decode_all(*cache, data, tokens);
                double worst = 0, largest = 0;
                for (std::size_t t = 0; t < tokens; ++t) {
                    Vector<double> q = Vector<double>::from_shape({d});
                    for (std::size_t l = 0; l < d; ++l) q(l) = data.q(t, l);
                    const Vector<double> exact = reference::tensor_decode(q, k1, k2, v1, v2, t + 1, shape.scale, variant);
                    worst = std::max(worst, relative_l2(outputs[t], exact));
                    largest = std::max(largest, largest_score(data, shape, &data.q(t, 0), t));
                }
                errors.push_back(worst);
                bounds.push_back(largest);
                report_value("poly degree=" + std::to_string(degree) + " " + variant_name(variant) +
                                 " B=" + std::to_string(largest) + " error vs exact",
                             worst);
            }
            INFO(variant_name(variant) << ", degree " << degree << ": B = " << bounds[0] << ", " << bounds[1] << ", "
                                       << bounds[2] << "; errors " << errors[0] << ", " << errors[1] << ", " << errors[2]);
            CHECK(bounds[0] > 0.5);  // the data do reach the regime where the truncation matters
            CHECK(errors[0] > 1e-4);
            for (std::size_t k = 1; k < errors.size(); ++k) CHECK(errors[k] <= errors[k - 1] / std::pow(2.0, double(degree)));
        }
    }
}

TEST_CASE("poly: a block append equals token-by-token appends, and clear and reuse repeats a fresh run", "[caches][poly]") {
    const std::size_t h = 4, kv = 2, d = 6, tokens = 20;
    Rng rng(700);
    const CacheData data = token_data(rng, h, kv, d, tokens);
    for (ScoreVariant variant : kVariants) {
        // Scores well inside (−1, 1): degree 1's normaliser then stays positive from the first
        // token (a single pair with s < −1 would be refused; that guard has its own test).
        const CacheShape shape = with_reference_bias({h, d, 0.1 / double(d), kv, variant});
        for (std::size_t degree : {1, 2, 3}) {
            INFO(variant_name(variant) << ", degree " << degree);
            const std::string spec = spec_of(degree);
            const std::unique_ptr<Cache> single = make_cache(spec, shape);
            const std::unique_ptr<Cache> block = make_cache(spec, shape);
            for (std::size_t t = 0; t < tokens; ++t) single->append(1, &data.k1(t, 0), &data.k2(t, 0), &data.v1(t, 0), &data.v2(t, 0));
            block->append(7, &data.k1(0, 0), &data.k2(0, 0), &data.v1(0, 0), &data.v2(0, 0));
            block->append(tokens - 7, &data.k1(7, 0), &data.k2(7, 0), &data.v1(7, 0), &data.v2(7, 0));
            REQUIRE(block->size() == tokens);
            // Each head's moments are summed token by token in the same order either way.
            const std::size_t queries = 5;
            std::vector<float> from_single(queries * h * d), from_block(queries * h * d);
            single->attend(queries, &data.q(0, 0), from_single.data());
            block->attend(queries, &data.q(0, 0), from_block.data());
            CHECK(from_block == from_single);
            // A block of queries equals the queries one by one.
            for (std::size_t r = 0; r < queries; ++r) {
                std::vector<float> one(h * d);
                single->attend(1, &data.q(r, 0), one.data());
                CHECK(std::equal(one.begin(), one.end(), from_single.begin() + r * h * d));
            }

            const auto first = decode_all(*make_cache(spec, shape), data, tokens);
            block->clear();
            CHECK(block->size() == 0);
            CHECK(block->bytes() == 0);
            CHECK_THROWS_AS(block->attend(1, &data.q(0, 0), from_block.data()), Error);
            CHECK(decode_all(*block, data, tokens) == first);
        }
    }
}

TEST_CASE("poly bytes(): 2·C(d+p,p)·(d+1) float64 per head whatever n and variant, and the step's scratch is the documented n-free formula",
          "[caches][poly][memory]") {
    // One thread: one head's scratch at a time, so the measured peak is exactly one head's.
    ThreadControl one_thread(1);
    const std::size_t h = 2;
    for (ScoreVariant variant : kVariants) {
        for (std::size_t degree : {1, 2, 3}) {
            for (std::size_t d : {4, 9}) {
                INFO(variant_name(variant) << ", degree " << degree << ", d = " << d);
                // Small scores, as above: the first attends see a single pair.
                const std::unique_ptr<Cache> cache = make_cache(spec_of(degree), {h, d, 0.1 / double(d), h, variant});
                CHECK(cache->bytes() == 0);
                CHECK(cache->cost(0).resident_bytes == 0);
                Rng rng(800 + d);
                const CacheData data = token_data(rng, h, h, d, 60);
                std::vector<float> out(h * d);
                for (std::size_t t = 0; t < 60; ++t) {
                    cache->append(1, &data.k1(t, 0), &data.k2(t, 0), &data.v1(t, 0), &data.v2(t, 0));
                    cache->attend(1, &data.q(t, 0), out.data());
                    INFO("n = " << t + 1);
                    CHECK(double(cache->bytes()) == poly_bytes(h, d, degree));
                    CHECK(double(cache->bytes()) == cache->cost().resident_bytes);
                    CHECK(double(cache->transient_peak_bytes()) == poly_scratch_bytes(d, degree, variant));
                    CHECK(cache->cost().transient_bytes == poly_scratch_bytes(d, degree, variant));
                }
                cache->clear();
                CHECK(cache->bytes() == 0);
                cache->reserve(100);
                CHECK(double(cache->bytes()) == poly_bytes(h, d, degree));
            }
        }
    }
}

TEST_CASE("poly: an odd degree whose normaliser is not positive throws, and degree 2 stays positive, in every variant",
          "[caches][poly]") {
    // One token, d = 1, scale 1, k1 = k2 = 1, q = −5: the single pair's score is q·k1·k2 = −5
    // (trilinear), q·k1 + q·k2 = −10 (rank1) or −10 + k1·k2 = −9 (strassen), so the weights are
    // 1 + s < 0 (degree 1), 1 + s + s²/2 > 0 (degree 2) and that minus |s|³/6 < 0 (degree 3).
    const float k = 1, v1 = 2, v2 = 3, q = -5;
    for (ScoreVariant variant : kVariants)
        for (std::size_t degree : {1, 2, 3}) {
            INFO(variant_name(variant) << ", degree " << degree);
            const std::unique_ptr<Cache> cache = make_cache(spec_of(degree), {1, 1, 1.0, 1, variant});
            cache->append(1, &k, &k, &v1, &v2);
            float out = 0;
            if (degree == 2) {
                cache->attend(1, &q, &out);
                CHECK(out == Approx(6.0));  // one pair: its value v1·v2, whatever its positive weight
            } else {
                CHECK_THROWS_WITH(cache->attend(1, &q, &out),
                                  Catch::Contains("normaliser") && Catch::Contains("variant=" + variant_name(variant)));
            }
        }
}
