// A cache with a memory limit refuses the append that would cross it, with a clear error and
// without changing what it holds; the CLI refuses up front; a study point admitted under a
// limit stays under it.
#include <catch2/catch.hpp>

#include <new>
#include <utility>
#include <vector>

#include "caches/registry.hpp"
#include "caches/row_store.hpp"
#include "framework/error.hpp"
#include "studies/measure/measure.hpp"

TEST_CASE("an append past the memory limit throws and leaves the cache as it was", "[caches][memory][reliability]") {
    const std::size_t h = 1, d = 8;
    for (const char* spec : {"product", "factor"}) {
        const auto cache = trikv::make_cache(spec, {h, d, 0.125});
        const std::size_t tokens_allowed = 40;
        const auto limit = static_cast<std::size_t>(cache->cost(tokens_allowed).resident_bytes);
        cache->set_memory_limit(limit);
        std::vector<float> token(h * d, 0.5f), out(h * d);
        std::size_t appended = 0;
        try {
            for (; appended < 10000; ++appended) cache->append(1, token.data(), token.data(), token.data(), token.data());
        } catch (const trikv::Error& e) {
            CHECK_THAT(e.what(), Catch::Contains("above the memory limit") && Catch::Contains(spec));
        }
        INFO(spec);
        CHECK(appended >= tokens_allowed);
        CHECK(appended < 10000);
        CHECK(cache->size() == appended);
        CHECK(cache->bytes() <= limit);
        cache->attend(1, token.data(), out.data());  // still usable
        CHECK(out[0] == Approx(0.25f));
        cache->set_memory_limit(0);
        cache->append(1, token.data(), token.data(), token.data(), token.data());
        CHECK(cache->size() == appended + 1);
    }
}

TEST_CASE("reserve is checked against the memory limit and physical memory before allocating",
          "[caches][memory][reliability]") {
    const std::size_t h = 1, d = 8;
    // Token counts far beyond any machine for each (a window keeps its windows whatever the count).
    const std::pair<const char*, std::size_t> cases[] = {{"product", std::size_t(1) << 24},
                                                         {"factor", std::size_t(1) << 40},
                                                         {"window:w1=512,w2=512", 0}};
    for (const auto& [spec, too_many] : cases) {
        INFO(spec);
        const auto cache = trikv::make_cache(spec, {h, d, 0.125});
        std::vector<float> token(h * d, 0.5f), out(h * d);
        cache->append(1, token.data(), token.data(), token.data(), token.data());
        const std::size_t held = cache->bytes();
        // Refused from the cost model, nothing allocated (it used to allocate chunk by chunk until killed).
        if (too_many > 0)
            CHECK_THROWS_WITH(cache->reserve(too_many), Catch::Contains("more than this machine's") &&
                                                            Catch::Contains("bytes of memory"));
        CHECK(cache->bytes() == held);
        // Under a limit: refused as an append past it would be (MemoryLimitError).
        cache->set_memory_limit(static_cast<std::size_t>(cache->cost(40).resident_bytes));
        CHECK_THROWS_AS(cache->reserve(1 << 20), trikv::MemoryLimitError);
        CHECK(cache->bytes() == held);
        cache->reserve(20);  // within the limit: allowed
        cache->attend(1, token.data(), out.data());  // still usable
        CHECK(out[0] == Approx(0.25f));
        CHECK(cache->size() == 1);
    }
}

namespace {

// Storage that runs out halfway through a reservation, as when the machine's memory is held
// by other processes: the chunks allocated so far must be given back.
class HalfReservingCache final : public trikv::Cache {
public:
    explicit HalfReservingCache(const trikv::CacheShape& shape) : Cache(shape), rows_(shape.dim, 64, resident_) {}
    std::string spec() const override { return "test-half-reserving"; }
    trikv::CacheCost cost(std::size_t tokens) const override {
        return {double(tokens * shape_.dim * sizeof(float)), 0, 0, 0};
    }

private:
    void reserve_storage(std::size_t tokens) override {
        rows_.reserve(tokens / 2);
        throw std::bad_alloc();
    }
    void append_tokens(std::size_t count, const float* k1, const float*, const float*, const float*) override {
        for (std::size_t t = 0; t < count; ++t) rows_.append(k1 + t * shape_.dim);
    }
    void attend_tokens(std::size_t, const float*, float*) override {}
    void clear_storage() override { rows_.clear(); }

    trikv::RowStore<float> rows_;
};

}  // namespace

TEST_CASE("a reservation that fails on an empty cache gives back what it allocated", "[caches][memory][reliability]") {
    HalfReservingCache cache({1, 8, 0.125});
    CHECK_THROWS_AS(cache.reserve(4096), std::bad_alloc);
    CHECK(cache.bytes() == 0);
    const std::vector<float> token(8, 1.0f);
    cache.append(1, token.data(), token.data(), token.data(), token.data());  // still usable
    CHECK(cache.size() == 1);
}

TEST_CASE("a study point admitted under the memory limit peaks under it", "[study][memory][reliability]") {
    // The limit is set at the admission edge: what the process holds now plus the point's
    // projection. The peak RSS of the point (VmHWM, reset when it starts) must stay below.
    using trikv::point_for;
    const std::vector<trikv::StudyPoint> points = {
        point_for("product:dtype=f32", {.n = 384, .d = 32, .heads = 2, .seed = 1, .warmup = 1, .repetitions = 2}),
        point_for("factor:strategy=fused,dtype=f32", {.n = 2048, .d = 64, .heads = 2, .seed = 1, .warmup = 1, .repetitions = 2}),
        point_for("matrix", {.n = 4096, .d = 64, .heads = 4, .seed = 1, .warmup = 1, .repetitions = 2}),
        point_for("factor:strategy=fused,dtype=f32", {.n = 680,
                                                      .d = 32,
                                                      .heads = 2,
                                                      .workload = trikv::Workload::var,
                                                      .schedule = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16},
                                                      .seed = 1,
                                                      .warmup = 0,
                                                      .repetitions = 1}),
    };
    // The first point a process measures also pays one-time state the projection does not model
    // (seen since the accuracy-positions change: 25–400 kB beyond the room below, in 3 of 4
    // standalone runs; with one point measured first, 8 of 8 pass). This test holds a point's own
    // peak to its projection, so the process is warmed first; the first-point gap is noted in
    // the issue, not hidden in a larger room.
    trikv::measure_point(points.front(), {}, 1e12);
    for (const trikv::StudyPoint& point : points) {
        INFO(point.describe());
        // Half a megabyte of room: the resident set moves by a few pages between this line and
        // the admission check inside measure_point (stderr, the projection's own cache).
        const double projected = trikv::projected_bytes(point);
        const double limit = trikv::resident_bytes() + projected + 512e3;
        const std::vector<trikv::ResultRow> rows = trikv::measure_point(point, {}, limit);
        REQUIRE(rows.back().ok());
        CHECK(rows.back().rss_peak_bytes <= limit);
        // Just below the edge it is not attempted.
        const double edge = trikv::resident_bytes() + trikv::projected_bytes(point);
        const std::vector<trikv::ResultRow> refused = trikv::measure_point(point, {}, edge - 1e6);
        CHECK(refused.back().status == trikv::PointStatus::skipped);
    }
}
