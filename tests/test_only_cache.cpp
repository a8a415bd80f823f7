// test-naive — a cache type that lives outside the library. It is the smallest complete
// example of trikv's extension point (docs/extending.md walks through it): subclass
// trikv::Cache, implement its five hooks, and register the type with trikv::register_cache
// from a static initialiser. Nothing in trikv names this file; the registry finds it.
//
// The cache keeps the four factor streams K1, K2, V1, V2 per head in RowStores (whose bytes
// are charged to the base class's `resident_` meter, so bytes() is exact) and attends by the
// definition: two passes over all pairs (i, j), first the max score, then the softmax-weighted
// sum of v1_i ∘ v2_j, accumulated in double.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "caches/registry.hpp"
#include "caches/row_store.hpp"
#include "conformance.hpp"

namespace {

using trikv::CacheShape;

class NaiveCache final : public trikv::Cache {
public:
    NaiveCache(const CacheShape& shape, std::size_t chunk_rows) : Cache(shape), chunk_rows_(chunk_rows) {
        // Stream s of kv head h is streams_[4·h + s]; every chunk is charged to resident_.
        for (std::size_t i = 0; i < 4 * shape.kv_heads; ++i) streams_.emplace_back(shape.dim, chunk_rows, resident_);
    }

    // Canonical: every parameter spelled out, so make_cache(spec()) rebuilds this cache.
    std::string spec() const override { return "test-naive:chunk_rows=" + std::to_string(chunk_rows_); }

    void reserve_storage(std::size_t tokens) override {
        for (trikv::RowStore<float>& stream : streams_) stream.reserve(tokens);
    }

    // The model of one attend: 4 streams stored; two score passes (2d flops each) and the
    // weighted pair product (3d) over (t+1)² pairs; the streams are read once per query row.
    trikv::CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), d = static_cast<double>(shape_.dim);
        const double n = static_cast<double>(tokens);
        trikv::CacheCost c;
        c.resident_bytes = static_cast<double>(streams_.size() * streams_.front().bytes_for(tokens));
        c.transient_bytes = d * sizeof(double);
        c.flops = 7.0 * n * n * d * h;
        c.bytes_moved = 4.0 * n * d * sizeof(float) * h;
        return c;
    }

private:
    trikv::RowStore<float>& stream(std::size_t head, int s) { return streams_[4 * head + s]; }

    // Each pointer holds [kv_heads, dim] floats: copy kv head h's slice onto the end of its stream.
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t, const float* k1, const float* k2, const float* v1, const float* v2) {
        const float* inputs[4] = {k1, k2, v1, v2};
        for (std::size_t head = 0; head < shape_.kv_heads; ++head)
            for (int s = 0; s < 4; ++s)
                std::copy_n(inputs[s] + head * shape_.dim, shape_.dim, stream(head, s).append_row());
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    void attend_one(const float* q_all, float* out_all) {
        const std::size_t n = size(), d = shape_.dim;
        // Scratch goes through the transient_ meter, so transient_peak_bytes() counts it.
        trikv::Buffer<double> acc(d, transient_);
        for (std::size_t head = 0; head < shape_.heads; ++head) {
            const float* q = q_all + head * d;
            const std::size_t kv = shape_.kv_head_of(head);  // query head h reads its group's kv head
            const trikv::RowStore<float>&K1 = stream(kv, 0), &K2 = stream(kv, 1), &V1 = stream(kv, 2),
                                          &V2 = stream(kv, 3);
            auto score = [&](std::size_t i, std::size_t j) {
                double s = 0;
                for (std::size_t l = 0; l < d; ++l) s += double(q[l]) * K1.row(i)[l] * K2.row(j)[l];
                return shape_.scale * s;
            };
            double top = -std::numeric_limits<double>::infinity();
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j) top = std::max(top, score(i, j));
            double norm = 0;
            std::fill_n(acc.data(), d, 0.0);
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                    const double p = std::exp(score(i, j) - top);
                    norm += p;
                    for (std::size_t l = 0; l < d; ++l) acc[l] += p * V1.row(i)[l] * V2.row(j)[l];
                }
            for (std::size_t l = 0; l < d; ++l) out_all[head * d + l] = static_cast<float>(acc[l] / norm);
        }
    }

    void clear_storage() override {
        for (trikv::RowStore<float>& stream : streams_) stream.clear();  // returns every chunk
    }

    std::size_t chunk_rows_;
    std::vector<trikv::RowStore<float>> streams_;
};

// Runs before main(). The registry validates the declared parameters (the default must be
// allowed) and parses specs for us: make() receives a complete, validated CacheConfig.
[[maybe_unused]] const bool registered = trikv::register_cache({
    .name = "test-naive",
    .description = "test-only: float factors, plain loops over pairs (registered from tests/)",
    .exact = true,
    .params = {{.name = "chunk_rows",
                .default_value = "64",
                .description = "rows per storage chunk",
                .choices = {},
                .min = 1,
                .max = 1 << 20,
                .integer = true}},
    .make = [](const trikv::CacheConfig& config, const CacheShape& shape) -> std::unique_ptr<trikv::Cache> {
        return std::make_unique<NaiveCache>(shape, static_cast<std::size_t>(config.integer("chunk_rows")));
    },
});

}  // namespace

TEST_CASE("a cache type registered outside the library is listed, constructible and conforms", "[caches][extending]") {
    bool listed = false;
    for (const trikv::CacheType* type : trikv::cache_types()) listed = listed || (type->name == "test-naive" && type->exact);
    CHECK(listed);

    const std::unique_ptr<trikv::Cache> cache = trikv::make_cache("test-naive", {2, 4, 0.25});
    CHECK(cache->spec() == "test-naive:chunk_rows=64");
    CHECK(trikv::make_cache("test-naive:chunk_rows=3", {1, 4, 0.25})->spec() == "test-naive:chunk_rows=3");

    // Small chunks (3 rows) make every stream span many chunks.
    trikv::test::check_cache_conformance("test-naive");
    trikv::test::check_cache_conformance("test-naive:chunk_rows=3");
}

TEST_CASE("test-naive charges its storage to bytes(): whole chunks of 4 streams per head", "[caches][extending]") {
    const std::size_t h = 2, d = 4, chunk = 3;
    const std::unique_ptr<trikv::Cache> cache = trikv::make_cache("test-naive:chunk_rows=3", {h, d, 0.25});
    const std::vector<float> token(h * d, 0.5f);
    for (std::size_t t = 1; t <= 7; ++t) {
        cache->append(1, token.data(), token.data(), token.data(), token.data());
        const std::size_t chunks = (t + chunk - 1) / chunk;
        CHECK(cache->bytes() == h * 4 * chunks * chunk * d * sizeof(float));
        CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
    }
    std::vector<float> out(h * d);
    cache->attend(1, token.data(), out.data());
    CHECK(cache->transient_peak_bytes() == d * sizeof(double));
    for (float x : out) CHECK(x == 0.25f);  // every pair's value is 0.5·0.5
}
