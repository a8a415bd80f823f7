// Memory honesty, cache by cache: bytes() is the exact storage each layout must hold (whole
// chunks of rows, as caches/row_store.hpp allocates them), it equals the cache's own cost model,
// and one attend's counted scratch (transient_peak_bytes) has the size the design promises:
// O(tile) for the fused factor cache and the product cache, O(n²d) for factor:recompute.
// Byte counts come from the caches' meters, never from RSS or timing.
#include <catch2/catch.hpp>

#include <bit>
#include <vector>

#include "attention/matrix_attention.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "framework/threads.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Appends tokens until the cache holds `tokens`, with seeded random data.
void fill(Cache& cache, std::size_t tokens, Rng& rng) {
    const std::size_t width = cache.shape().kv_width();
    std::vector<float> k1(width), k2(width), v1(width), v2(width);
    while (cache.size() < tokens) {
        for (std::size_t i = 0; i < width; ++i) {
            k1[i] = float(rng.normal()), k2[i] = float(rng.normal());
            v1[i] = float(rng.normal()), v2[i] = float(rng.normal());
        }
        cache.append(1, k1.data(), k2.data(), v1.data(), v2.data());
    }
}

void attend_once(Cache& cache, Rng& rng) {
    const std::size_t width = cache.shape().heads * cache.shape().dim;
    std::vector<float> q(width), out(width);
    for (float& x : q) x = float(rng.normal());
    cache.attend(1, q.data(), out.data());
}

// Chunk sizes of the layouts, from caches/product_cache.cpp and caches/factor_cache.cpp.
constexpr std::size_t kFactorChunkRows = 256;  // product's factors; factor's chunks are kPairTileRows
constexpr std::size_t kPairSlabRows = 1024;    // product's pair rows: slabs of 4 tiles of 256 rows

// product's pair keys and values of one head (caches/paired_row_store.hpp): whole slabs of
// key and value rows, plus the index of tile pointers (two per tile, capacity doubling in slabs).
constexpr std::size_t kPairSlabTiles = kPairSlabRows / kStreamTileRows;
std::size_t product_pair_bytes(std::size_t pairs, std::size_t d) {
    const std::size_t slabs = (pairs + kPairSlabRows - 1) / kPairSlabRows;
    const std::size_t index = slabs == 0 ? 0 : kPairSlabTiles * std::bit_ceil(slabs);
    return slabs * 2 * kPairSlabRows * d * sizeof(float) + 2 * index * sizeof(void*);
}
static_assert(kPairTileRows == kFactorChunkRows, "factor:… stores its streams in one-tile chunks");

}  // namespace

TEST_CASE("product bytes(): 4 factor streams in 256-row chunks + pair keys and values in 1024-row slabs", "[caches][memory]") {
    // h·[4·⌈T/256⌉·256·d·sizeof(float) + 2·⌈T²/1024⌉·1024·d·sizeof(float) + the tile index].
    const std::size_t h = 2, d = 4;
    const std::unique_ptr<Cache> cache = make_cache("product", {h, d, 0.25});
    CHECK(cache->bytes() == 0);
    Rng rng(1);
    // 32² = 1024 fills one pair chunk exactly, 33² = 1089 starts the second, 46² the third;
    // 257 starts the second factor chunk.
    for (std::size_t tokens : {1, 2, 32, 33, 46, 257}) {
        fill(*cache, tokens, rng);
        const std::size_t want =
            h * (4 * round_up(tokens, kFactorChunkRows) * d * sizeof(float) + product_pair_bytes(tokens * tokens, d));
        INFO("T = " << tokens);
        CHECK(cache->bytes() == want);
        CHECK(static_cast<double>(cache->bytes()) == cache->cost(tokens).resident_bytes);
        CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
    }
    cache->clear();
    CHECK(cache->bytes() == 0);
}

TEST_CASE("product reserve(T) allocates exactly the storage T tokens need", "[caches][memory]") {
    const std::size_t h = 1, d = 8, tokens = 70;
    const std::unique_ptr<Cache> cache = make_cache("product", {h, d, 0.125});
    cache->reserve(tokens);
    const std::size_t reserved = cache->bytes();
    CHECK(static_cast<double>(reserved) == cache->cost(tokens).resident_bytes);
    Rng rng(2);
    fill(*cache, tokens, rng);
    CHECK(cache->bytes() == reserved);  // appends within the reservation allocate nothing
}

TEST_CASE("factor bytes(): 4 streams per head in 256-row chunks", "[caches][memory]") {
    // h·4·⌈T/256⌉·256·d·sizeof(float), for both strategies.
    for (const char* spec : {"factor", "factor:strategy=recompute"}) {
        const std::size_t h = 3, d = 5;
        const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, 0.2});
        CHECK(cache->bytes() == 0);
        Rng rng(3);
        for (std::size_t tokens : {1, 256, 257, 513}) {
            fill(*cache, tokens, rng);
            INFO(spec << ", T = " << tokens);
            CHECK(cache->bytes() == h * 4 * round_up(tokens, kFactorChunkRows) * d * sizeof(float));
            CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
        }
        cache->clear();
        CHECK(cache->bytes() == 0);
    }
}

TEST_CASE("grouped heads: storage holds the kv heads only, for factor, window and matrix", "[caches][memory]") {
    // 8 query heads over 2 kv heads store what 2 heads store; attend reads q [8, d].
    const std::size_t heads = 8, kv = 2, d = 4, tokens = 300;
    for (const char* spec : {"factor", "window:w1=64,w2=256", "matrix"}) {
        INFO(spec);
        const std::unique_ptr<Cache> grouped = make_cache(spec, {heads, d, 0.25, kv});
        const std::unique_ptr<Cache> plain = make_cache(spec, {kv, d, 0.25});
        Rng rng(11), same(11);
        fill(*grouped, tokens, rng);
        fill(*plain, tokens, same);
        CHECK(grouped->bytes() == plain->bytes());
        CHECK(static_cast<double>(grouped->bytes()) == grouped->cost().resident_bytes);
        CHECK(grouped->cost().flops == 4.0 * plain->cost().flops);  // flops follow the query heads
        attend_once(*grouped, rng);
    }
}

TEST_CASE("pair-logits bytes(): 4 factor streams in 256-row chunks + T² logits in 65536-logit chunks per kv head",
          "[caches][memory]") {
    const std::size_t heads = 4, kv = 2, d = 3;
    constexpr std::size_t kLogitChunk = 1 << 16;  // caches/pair_logits_cache.cpp
    CacheShape shape{heads, d, 0.3, kv, ScoreVariant::strassen};
    const std::unique_ptr<Cache> cache = make_cache("pair-logits", shape);
    Rng rng(12);
    for (std::size_t tokens : {1, 255, 257, 300}) {
        fill(*cache, tokens, rng);
        INFO("T = " << tokens);
        const std::size_t factors = kv * 4 * round_up(tokens, kFactorChunkRows) * d * sizeof(float);
        const std::size_t logits = kv * round_up(tokens * tokens, kLogitChunk) * sizeof(float);
        CHECK(cache->bytes() == factors + logits);
        CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
        attend_once(*cache, rng);
        CHECK(static_cast<double>(cache->transient_peak_bytes()) <= cache->cost().transient_bytes);
    }
    cache->clear();
    CHECK(cache->bytes() == 0);
}

TEST_CASE("reference bytes(): 4 float64 streams of exactly T rows per head", "[caches][memory]") {
    const std::size_t h = 2, d = 3;
    const std::unique_ptr<Cache> cache = make_cache("reference", {h, d, 0.3});
    Rng rng(4);
    for (std::size_t tokens : {1, 2, 17, 100}) {
        fill(*cache, tokens, rng);
        INFO("T = " << tokens);
        CHECK(cache->bytes() == 4 * tokens * d * h * sizeof(double));
    }
    cache->clear();
    CHECK(cache->bytes() == 0);
}

TEST_CASE("factor:strategy=fused scratch is O(tile): independent of n and under 1 MiB", "[caches][memory]") {
    const std::size_t h = 2, d = 16;
    const std::unique_ptr<Cache> cache = make_cache("factor:strategy=fused", {h, d, 1.0 / d});
    Rng rng(5);
    std::size_t one_thread_500 = 0, one_thread_2000 = 0, two_threads_2000 = 0;
    {
        // On one thread there is exactly one reducer (one set of tiles) per head, whatever n is,
        // so the peak at n = 500 and n = 2000 must be identical.
        ThreadControl one_thread(1);
        fill(*cache, 500, rng);
        attend_once(*cache, rng);
        one_thread_500 = cache->transient_peak_bytes();
        fill(*cache, 2000, rng);
        attend_once(*cache, rng);
        one_thread_2000 = cache->transient_peak_bytes();
    }
    {
        // On two threads TBB may split the reduction a few times (one tile set per split), so
        // the peak varies between runs, but it stays a handful of tile sets.
        ThreadControl two_threads(2);
        attend_once(*cache, rng);
        two_threads_2000 = cache->transient_peak_bytes();
    }
    report_value("fused transient bytes, 1 thread, n=500", double(one_thread_500));
    report_value("fused transient bytes, 1 thread, n=2000", double(one_thread_2000));
    report_value("fused transient bytes, 2 threads, n=2000", double(two_threads_2000));
    CHECK(one_thread_500 > 0);
    CHECK(one_thread_2000 == one_thread_500);
    CHECK(two_threads_2000 < (std::size_t(1) << 20));
    // The products alone would be 2·n²·d·4 = 512 MB per head at n = 2000.
    CHECK(two_threads_2000 < 2 * 2000 * 2000 * d * sizeof(float) / 100);
}

TEST_CASE("factor:strategy=recompute scratch holds the materialised products, ≥ 2·n²·d·4 bytes", "[caches][memory]") {
    const std::size_t h = 2, d = 8;
    const std::unique_ptr<Cache> cache = make_cache("factor:strategy=recompute", {h, d, 1.0 / d});
    Rng rng(6);
    for (std::size_t n : {10, 300}) {
        fill(*cache, n, rng);
        attend_once(*cache, rng);
        INFO("n = " << n);
        // K1⊘K2 and V1⊘V2 of one head (the cache does heads one at a time).
        CHECK(cache->transient_peak_bytes() >= 2 * n * n * d * sizeof(float));
        CHECK(static_cast<double>(cache->transient_peak_bytes()) >= cache->cost().transient_bytes);
    }
}

TEST_CASE("product scratch is O(block): independent of n", "[caches][memory]") {
    // Streaming kernel: one 512-row score block and a d-vector per reducer, whatever n is.
    const std::size_t h = 2, d = 8;
    const std::unique_ptr<Cache> cache = make_cache("product", {h, d, 1.0 / d});
    Rng rng(7);
    ThreadControl one_thread(1);
    fill(*cache, 30, rng);  // 900 pair rows: 2 blocks
    attend_once(*cache, rng);
    const std::size_t small = cache->transient_peak_bytes();
    fill(*cache, 120, rng);  // 14400 pair rows: 29 blocks, 4 storage chunks
    attend_once(*cache, rng);
    CHECK(small > 0);
    CHECK(cache->transient_peak_bytes() == small);
    CHECK(small < 64 * 1024);
}

// The reference cache copies a head's four float64 streams into xtensor matrices during
// attend (4·n·d doubles, its cost model's transient_bytes); they must be counted (a
// regression test: they once were not).
TEST_CASE("reference transient_peak_bytes() counts the float64 copies its attend makes", "[caches][memory]") {
    const std::size_t h = 2, d = 4, n = 50;
    const std::unique_ptr<Cache> cache = make_cache("reference", {h, d, 0.25});
    Rng rng(8);
    fill(*cache, n, rng);
    attend_once(*cache, rng);
    CHECK(cache->transient_peak_bytes() >= 4 * n * d * sizeof(double));
    CHECK(static_cast<double>(cache->transient_peak_bytes()) >= cache->cost().transient_bytes);
}
