// Conformance of every registered exact tensor-attention cache type (trikv::cache_types() with
// exact = true and attention = tensor; the matrix baseline has its own test, test_matrix_cache),
// for every combination of its parameters' choices: the checks are in conformance.hpp. A new
// exact cache type is covered as soon as it registers, with no edit here; that includes the
// test-only type registered in test_only_cache.cpp.
#include <catch2/catch.hpp>

#include "attention/reference.hpp"
#include "conformance.hpp"

using namespace trikv;

TEST_CASE("every exact cache type conforms for every parameter combination", "[caches][conformance]") {
    std::size_t checked = 0;
    for (const CacheType* type : cache_types()) {
        if (!type->exact || type->attention != AttentionKind::tensor) continue;
        for (const std::string& spec : test::conformance_specs(*type)) {
            test::check_cache_conformance(spec);
            test::check_block_conformance(spec);
            ++checked;
        }
    }
    // product, factor (fused, recompute), reference and at least the test-only type.
    CHECK(checked >= 5);
}

TEST_CASE("the reference cache is docs/math.md §9 written out: grouped heads, variants, bias", "[caches][conformance]") {
    // The conformance suite holds every type to the reference cache; this holds the reference
    // cache (and Cache::append's bias) to reference::simplicial_decode, which takes the
    // published formulas literally on [kv_heads, n, d] inputs.
    const std::size_t heads = 4, d = 8, tokens = 9;
    Rng rng(6000);
    for (std::size_t kv : test::kGroupedKvHeads)
        for (ScoreVariant variant : {ScoreVariant::trilinear, ScoreVariant::rank1, ScoreVariant::strassen})
            for (const auto& [k2_bias, v2_bias] : {std::pair{0.0, 0.0}, std::pair{1.0 / d, 1.0}, std::pair{-0.5, 2.0}}) {
                INFO("kv_heads " << kv << ", " << variant_name(variant) << ", bias " << k2_bias << "/" << v2_bias);
                CacheShape shape{heads, d, 1.0 / std::sqrt(double(d)), kv, variant};
                shape.k2_bias = k2_bias;
                shape.v2_bias = v2_bias;
                const std::unique_ptr<Cache> cache = make_cache("reference", shape);
                Heads<double> streams[4];
                for (Heads<double>& x : streams) x = xt::zeros<double>({kv, tokens, d});
                for (std::size_t t = 0; t < tokens; ++t) {
                    Matrix<float> token[4];
                    for (std::size_t s = 0; s < 4; ++s) {
                        token[s] = test::random_matrix<float>(rng, kv, d);
                        for (std::size_t h = 0; h < kv; ++h)
                            for (std::size_t l = 0; l < d; ++l) streams[s](h, t, l) = token[s](h, l);
                    }
                    cache->append(1, token[0].data(), token[1].data(), token[2].data(), token[3].data());
                }
                const Matrix<float> q = test::random_matrix<float>(rng, heads, d);
                std::vector<float> got(heads * d);
                cache->attend(1, q.data(), got.data());
                const Matrix<double> want = reference::simplicial_decode(test::to_double(q), streams[0], streams[1],
                                                                         streams[2], streams[3], tokens, shape.scale,
                                                                         variant, k2_bias, v2_bias);
                // The bias is added in float before the float64 reference sees the rows.
                CHECK(test::relative_l2(got, want) <= test::kCacheTolerance);
            }
}

TEST_CASE("a shape whose kv_heads do not divide heads is refused with one line naming both", "[caches][conformance]") {
    CacheShape shape{4, 8, 0.125, 3};
    CHECK_THROWS_WITH(make_cache("factor", shape), Catch::Contains("kv_heads=3") && Catch::Contains("heads=4"));
    shape.kv_heads = 0;
    CHECK_THROWS_WITH(make_cache("factor", shape), Catch::Contains("kv_heads=0"));
}

TEST_CASE("every exact cache type stays exact across 1024-row storage chunks", "[caches][conformance]") {
    // The sequences above stay below 70 tokens; factor streams are stored in 1024-row chunks
    // (4096 for product's pair rows), so attend once at T = 1025, just past the first factor
    // chunk, against reference::tensor_decode on the same float inputs (tolerance as above).
    const std::size_t tokens = 1025, d = 4;
    const double scale = 0.5;
    Rng rng(2000);
    const Matrix<float> k1 = test::random_matrix<float>(rng, tokens, d), k2 = test::random_matrix<float>(rng, tokens, d),
                        v1 = test::random_matrix<float>(rng, tokens, d), v2 = test::random_matrix<float>(rng, tokens, d),
                        q = test::random_matrix<float>(rng, 1, d);
    // The reference in the variant each spec is walked in first (strassen for pair-logits).
    const auto want = [&](ScoreVariant variant) {
        return reference::tensor_decode(test::row_of(test::to_double(q), 0), test::to_double(k1), test::to_double(k2),
                                        test::to_double(v1), test::to_double(v2), tokens, scale, variant);
    };
    for (const CacheType* type : cache_types()) {
        if (!type->exact || type->attention != AttentionKind::tensor) continue;
        for (const std::string& spec : test::conformance_specs(*type)) {
            INFO("cache " << spec);
            const ScoreVariant variant = test::first_variant(spec);
            const std::unique_ptr<Cache> cache = make_cache(spec, {1, d, scale, 1, variant});
            for (std::size_t t = 0; t < tokens; ++t)
                cache->append(1, &k1(t, 0), &k2(t, 0), &v1(t, 0), &v2(t, 0));
            std::vector<float> out(d);
            cache->attend(1, q.data(), out.data());
            const double error = test::relative_l2(out, want(variant)), tolerance = test::cache_tolerance(spec);
            test::report_error("conformance " + spec + " T=1025", error, tolerance);
            CHECK(error <= tolerance);
        }
    }
}

TEST_CASE("conformance_specs enumerates every choice and keeps numeric defaults", "[caches][conformance]") {
    const CacheType type{.name = "demo",
                         .description = "",
                         .exact = true,
                         .params = {{.name = "a", .default_value = "x", .description = "", .choices = {"x", "y"}},
                                    {.name = "n", .default_value = "3", .description = "", .choices = {}, .min = 0, .max = 9},
                                    {.name = "b", .default_value = "p", .description = "", .choices = {"p", "q", "r"}}},
                         .make = nullptr};
    const std::vector<std::string> specs = test::conformance_specs(type);
    CHECK(specs == std::vector<std::string>{"demo:a=x,n=3,b=p", "demo:a=x,n=3,b=q", "demo:a=x,n=3,b=r",
                                            "demo:a=y,n=3,b=p", "demo:a=y,n=3,b=q", "demo:a=y,n=3,b=r"});
    const CacheType bare{.name = "bare", .description = "", .exact = true, .params = {}, .make = nullptr};
    CHECK(test::conformance_specs(bare) == std::vector<std::string>{"bare"});
}
