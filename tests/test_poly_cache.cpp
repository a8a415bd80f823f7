// poly:degree=p (caches/poly_cache.cpp): the polynomial method. Held to a float64 loop over
// every pair of the SAME truncated series Σ_k s^k/k! (so the moment algebra is checked
// exactly), to exact attention as the scores shrink (the error must fall like B^(p+1), B =
// max|s|), to block-equals-tokens, clear-and-reuse, its byte formula (independent of n) and
// its guards (odd degree with a normaliser ≤ 0, a state too large to allocate).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "conformance.hpp"
#include "framework/error.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

// Every pair's score of `query` over tokens [0, t], one head at channel offset c, in float64.
std::vector<double> pair_scores(const CacheData& data, const float* q, std::size_t t, std::size_t c, double scale) {
    const std::size_t d = data.dim;
    std::vector<double> scores;
    for (std::size_t i = 0; i <= t; ++i)
        for (std::size_t j = 0; j <= t; ++j) {
            double s = 0;
            for (std::size_t l = 0; l < d; ++l) s += double(q[c + l]) * double(data.k1(i, c + l)) * double(data.k2(j, c + l));
            scores.push_back(scale * s);
        }
    return scores;
}

// Attention of q over tokens [0, t], every head, with pair weights weight(s), as literal
// float64 loops over the pairs (i, j).
template <class Weight>
std::vector<double> pair_loop_attention(const CacheData& data, const float* q, std::size_t t, double scale,
                                        Weight weight) {
    const std::size_t h = data.heads, d = data.dim;
    std::vector<double> out(h * d, 0.0);
    for (std::size_t head = 0; head < h; ++head) {
        const std::size_t c = head * d;
        const std::vector<double> scores = pair_scores(data, q, t, c, scale);
        double norm = 0;
        for (std::size_t i = 0, pair = 0; i <= t; ++i)
            for (std::size_t j = 0; j <= t; ++j, ++pair) {
                const double w = weight(scores[pair]);
                norm += w;
                for (std::size_t l = 0; l < d; ++l) out[c + l] += w * double(data.v1(i, c + l)) * double(data.v2(j, c + l));
            }
        for (std::size_t l = 0; l < d; ++l) out[c + l] /= norm;
    }
    return out;
}

// CacheData with one query per token (its random step sequence may hold fewer).
CacheData token_data(Rng& rng, std::size_t h, std::size_t d, std::size_t tokens) {
    CacheData data(rng, h, d, tokens);
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

// C(d+p, p) monomials of degree ≤ p, each with A (1 value) and B (d values), float64, per
// head and stream (the documented formula).
double poly_bytes(std::size_t h, std::size_t d, std::size_t p) {
    double monomials = 1;
    for (std::size_t k = 1; k <= p; ++k) monomials = monomials * double(d + k) / double(k);
    return double(h) * 2 * monomials * double(d + 1) * sizeof(double);
}

}  // namespace

TEST_CASE("poly is registered as approximate, with canonical spec and validated degree", "[caches][poly]") {
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
}

TEST_CASE("poly equals a float64 loop over every pair of the same truncated series", "[caches][poly]") {
    const std::size_t h = 2, tokens = 24;
    std::uint64_t seed = 500;
    for (std::size_t degree : {1, 2, 3}) {
        for (std::size_t d : {3, 8, 16}) {
            const double scale = d == 8 ? default_tensor_scale(d) : 1.0 / std::sqrt(double(d));
            INFO("degree " << degree << ", d = " << d << ", seed " << seed + 1);
            Rng rng(++seed);
            const CacheData data = token_data(rng, h, d, tokens);
            const std::unique_ptr<Cache> cache = make_cache("poly:degree=" + std::to_string(degree), {h, d, scale});
            const auto outputs = decode_all(*cache, data, tokens);
            double worst = 0;
            for (std::size_t t = 0; t < tokens; ++t) {
                const auto want = pair_loop_attention(data, &data.q(t, 0), t, scale,
                                                      [&](double s) { return taylor_exp(s, degree); });
                REQUIRE(all_finite(outputs[t]));
                const double error = relative_l2(outputs[t], want);
                worst = std::max(worst, error);
                INFO("t = " << t);
                CHECK(error <= kCacheTolerance);
            }
            report_error("poly degree=" + std::to_string(degree) + " d=" + std::to_string(d) + " vs its series", worst,
                         kCacheTolerance);
        }
    }
}

TEST_CASE("poly approaches exact attention as the scores shrink, its error falling like B^(p+1)", "[caches][poly]") {
    // d = 8 at scale 1/d: B ≈ 1 for these gaussian inputs, then the queries are scaled by 1/2
    // and 1/4 (B halves each time). The leading error term is the first dropped one, s^(p+1)/(p+1)!,
    // so each halving should divide the error by ~2^(p+1); asserting at least 2^p leaves room for
    // the higher-order terms at B ≈ 1 and still fails for an error that does not shrink with B
    // at the predicted order.
    const std::size_t h = 1, d = 8, tokens = 16;
    const double scale = default_tensor_scale(d);
    Rng rng(600);
    const CacheData data = token_data(rng, h, d, tokens);
    for (std::size_t degree : {1, 2, 3}) {
        std::vector<double> errors, bounds;
        for (double shrink : {1.0, 0.5, 0.25}) {
            CacheData shrunk = data;
            for (std::size_t i = 0; i < shrunk.q.size(); ++i) shrunk.q.data()[i] = float(shrunk.q.data()[i] * shrink);
            const std::unique_ptr<Cache> cache = make_cache("poly:degree=" + std::to_string(degree), {h, d, scale});
            const auto outputs = decode_all(*cache, shrunk, tokens);
            double worst = 0, largest = 0;
            for (std::size_t t = 0; t < tokens; ++t) {
                const float* q = &shrunk.q(t, 0);
                const auto exact = pair_loop_attention(shrunk, q, t, scale, [](double s) { return std::exp(s); });
                worst = std::max(worst, relative_l2(outputs[t], exact));
                for (double s : pair_scores(shrunk, q, t, 0, scale)) largest = std::max(largest, std::abs(s));
            }
            errors.push_back(worst);
            bounds.push_back(largest);
            report_value("poly degree=" + std::to_string(degree) + " B=" + std::to_string(largest) + " error vs exact",
                         worst);
        }
        INFO("degree " << degree << ": B = " << bounds[0] << ", " << bounds[1] << ", " << bounds[2]
                       << "; errors " << errors[0] << ", " << errors[1] << ", " << errors[2]);
        CHECK(bounds[0] > 0.5);  // the data do reach the regime where the truncation matters
        CHECK(errors[0] > 1e-4);
        for (std::size_t k = 1; k < errors.size(); ++k) CHECK(errors[k] <= errors[k - 1] / std::pow(2.0, double(degree)));
    }
}

TEST_CASE("poly: a block append equals token-by-token appends, and clear and reuse repeats a fresh run", "[caches][poly]") {
    const std::size_t h = 3, d = 6, tokens = 20;
    Rng rng(700);
    const CacheData data = token_data(rng, h, d, tokens);
    // Scores well inside (−1, 1): degree 1's normaliser then stays positive from the first
    // token (a single pair with s < −1 would be refused; that guard has its own test).
    const CacheShape shape{h, d, 0.1 / double(d)};
    for (std::size_t degree : {1, 2, 3}) {
        INFO("degree " << degree);
        const std::string spec = "poly:degree=" + std::to_string(degree);
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

TEST_CASE("poly bytes(): 2·C(d+p,p)·(d+1) float64 per head whatever n, and the step's scratch is n-free", "[caches][poly][memory]") {
    const std::size_t h = 2;
    for (std::size_t degree : {1, 2, 3}) {
        for (std::size_t d : {4, 9}) {
            INFO("degree " << degree << ", d = " << d);
            // Small scores, as above: the first attends see a single pair.
            const std::unique_ptr<Cache> cache = make_cache("poly:degree=" + std::to_string(degree), {h, d, 0.1 / double(d)});
            CHECK(cache->bytes() == 0);
            CHECK(cache->cost(0).resident_bytes == 0);
            Rng rng(800 + d);
            const CacheData data = token_data(rng, h, d, 60);
            std::vector<float> out(h * d);
            for (std::size_t t = 0; t < 60; ++t) {
                cache->append(1, &data.k1(t, 0), &data.k2(t, 0), &data.v1(t, 0), &data.v2(t, 0));
                cache->attend(1, &data.q(t, 0), out.data());
                INFO("n = " << t + 1);
                CHECK(double(cache->bytes()) == poly_bytes(h, d, degree));
                CHECK(double(cache->bytes()) == cache->cost().resident_bytes);
                CHECK(double(cache->transient_peak_bytes()) <= cache->cost().transient_bytes);
                // n-free: the bound is the same at every n. (The measured peak itself depends on
                // how many heads TBB happened to run at once, so it is only held to the bound.)
                CHECK(cache->cost().transient_bytes == cache->cost(1).transient_bytes);
            }
            cache->clear();
            CHECK(cache->bytes() == 0);
            cache->reserve(100);
            CHECK(double(cache->bytes()) == poly_bytes(h, d, degree));
        }
    }
}

TEST_CASE("poly: an odd degree whose normaliser is not positive throws, and degree 2 stays positive", "[caches][poly]") {
    // One token, d = 1, scale 1: the single pair's score is q·k1·k2 = −5, so the weights are
    // 1 + s = −4 (degree 1), 1 + s + s²/2 = 8.5 and 8.5 − 125/6 < 0 (degree 3).
    const float k = 1, v1 = 2, v2 = 3, q = -5;
    for (std::size_t degree : {1, 2, 3}) {
        INFO("degree " << degree);
        const std::unique_ptr<Cache> cache = make_cache("poly:degree=" + std::to_string(degree), {1, 1, 1.0});
        cache->append(1, &k, &k, &v1, &v2);
        float out = 0;
        if (degree == 2) {
            cache->attend(1, &q, &out);
            CHECK(out == Approx(6.0));  // one pair: its value v1·v2, whatever its positive weight
        } else {
            CHECK_THROWS_WITH(cache->attend(1, &q, &out), Catch::Contains("normaliser"));
        }
    }
}
