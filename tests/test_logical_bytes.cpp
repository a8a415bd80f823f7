// Cache::logical_bytes: the bytes of the stored data, without the storage chunks allocated ahead
// and not yet filled, which bytes() counts (a factor cache grows its streams kPairTileRows rows
// at a time).
#include <catch2/catch.hpp>

#include <memory>

#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "support.hpp"

using namespace trikv;

namespace {

// Appends `tokens` random tokens ([kv_heads, d] each) to `cache`.
void fill(Cache& cache, std::size_t tokens, std::uint64_t seed) {
    Rng rng(seed);
    const std::size_t width = cache.shape().kv_width();
    for (std::size_t t = 0; t < tokens; ++t) {
        const Matrix<float> rows = test::random_matrix<float>(rng, 4, width);
        cache.append(1, &rows(0, 0), &rows(1, 0), &rows(2, 0), &rows(3, 0));
    }
}

}  // namespace

TEST_CASE("a factor cache's logical bytes are its four streams' rows whatever its chunk size", "[caches][memory]") {
    const std::size_t heads = 4, kv_heads = 2, d = 8;
    for (std::size_t tokens : {std::size_t(1), std::size_t(100), kPairTileRows + 3}) {
        INFO(tokens << " tokens");
        const std::unique_ptr<Cache> cache = make_cache("factor", {heads, d, 0.125, kv_heads});
        fill(*cache, tokens, 40 + tokens);
        CHECK(cache->logical_bytes() == 4 * kv_heads * tokens * d * sizeof(float));
        CHECK(cache->bytes() > cache->logical_bytes());  // whole chunks are held
        cache->reserve(3 * kPairTileRows);  // allocated ahead, holding nothing yet
        CHECK(cache->logical_bytes() == 4 * kv_heads * tokens * d * sizeof(float));
        cache->clear();
        CHECK(cache->logical_bytes() == 0);
    }
    // bf16 storage: two bytes a value.
    const std::unique_ptr<Cache> half = make_cache("factor:strategy=fused,dtype=bf16", {heads, d, 0.125, kv_heads});
    fill(*half, 10, 7);
    CHECK(half->logical_bytes() == 4 * kv_heads * 10 * d * 2);
}

TEST_CASE("every cache type's logical bytes are at most its bytes and 0 once cleared", "[caches][memory]") {
    for (const CacheType* type : cache_types()) {
        if (type->attention != AttentionKind::tensor || trikv::test::made_to_fail(type->name)) continue;
        INFO("cache type " << type->name);
        const ScoreVariant variant = supported_variants(parse_cache_spec(type->name)).front();  // pair-logits: strassen
        const std::unique_ptr<Cache> cache = make_cache(type->name, {2, 8, 0.125, 2, variant});
        fill(*cache, 37, 11);
        CHECK(cache->logical_bytes() > 0);
        CHECK(cache->logical_bytes() <= cache->bytes());
        cache->clear();
        CHECK(cache->logical_bytes() == 0);
        CHECK(cache->bytes() == 0);
    }
}

TEST_CASE("a product cache's logical bytes hold its pair rows and factor rows and not its unfilled slabs", "[caches][memory]") {
    const std::size_t d = 8, tokens = 9;
    const std::unique_ptr<Cache> cache = make_cache("product", {1, d, 0.125});
    fill(*cache, tokens, 3);
    const std::size_t pair_rows = 2 * tokens * tokens * d * sizeof(float);  // key and value rows of n² pairs
    const std::size_t factor_rows = 4 * tokens * d * sizeof(float);
    // Beyond the rows: the slabs' tile index only (d = 8 floats: tiles need no alignment padding).
    CHECK(cache->logical_bytes() >= pair_rows + factor_rows);
    CHECK(cache->logical_bytes() - (pair_rows + factor_rows) < pair_rows);
    CHECK(cache->logical_bytes() < cache->bytes());
}
