// hybrid:window=w (caches/hybrid_cache.cpp): exact tensor attention from the factors of every
// token plus the stored product rows of the last w tokens' w×w square. The generic conformance
// test covers its default (w = 64, up to 70 tokens); here: several windows including 0 and 1,
// long sequences where the window slides far and the factor rectangles start mid-chunk, its
// limits (w = 0 is factor, w ≥ n is product), its memory formula, and O(tile) scratch. Also the
// RowsView::rows_from helper it reads the recent factor rows through.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "attention/rows.hpp"
#include "caches/registry.hpp"
#include "conformance.hpp"
#include "framework/error.hpp"
#include "framework/threads.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// The documented formula: per head, 4 factor streams in 256-row chunks, and (w > 0) key and
// value pair rows for the r = min(n, w) recent tokens' square in w-row chunks.
std::size_t hybrid_bytes(std::size_t h, std::size_t d, std::size_t n, std::size_t w) {
    const std::size_t r = std::min(n, w);
    const std::size_t pairs = w == 0 ? 0 : round_up(r * r, w);
    return h * (4 * round_up(n, 256) + 2 * pairs) * d * sizeof(float);
}

void append_random(Cache& cache, Rng& rng) {
    const std::size_t width = cache.shape().heads * cache.shape().dim;
    std::vector<float> x(4 * width);
    for (float& value : x) value = float(rng.normal());
    cache.append(1, x.data(), x.data() + width, x.data() + 2 * width, x.data() + 3 * width);
}

std::string spec_of(std::size_t window) { return "hybrid:window=" + std::to_string(window); }

}  // namespace

TEST_CASE("RowsView::rows_from views any row range of chunked and contiguous storage", "[attention][rows]") {
    const std::size_t d = 3, chunk_rows = 4, rows = 11;
    std::vector<std::vector<int>> chunks(3, std::vector<int>(chunk_rows * d));
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t l = 0; l < d; ++l) chunks[i / chunk_rows][(i % chunk_rows) * d + l] = int(10 * i + l);
    const int* pointers[3] = {chunks[0].data(), chunks[1].data(), chunks[2].data()};
    std::vector<int> flat(rows * d);
    for (std::size_t i = 0; i < rows * d; ++i) flat[i] = int(10 * (i / d) + i % d);
    for (const RowsView<int>& all : {RowsView<int>::chunked(pointers, chunk_rows, rows, d),
                                     RowsView<int>::contiguous(flat.data(), rows, d)}) {
        for (std::size_t begin = 0; begin <= rows; ++begin) {
            const RowsView<int> part = all.rows_from(begin, rows - begin);
            INFO((all.chunks ? "chunked" : "contiguous") << ", begin = " << begin);
            REQUIRE(part.rows == rows - begin);
            for (std::size_t i = 0; i < part.rows; ++i) {
                CHECK(part.row(i) == all.row(begin + i));
                // A contiguous run never crosses a chunk boundary and always makes progress.
                const std::size_t run = part.contiguous_from(i);
                CHECK(run >= 1);
                CHECK(run <= all.contiguous_from(begin + i));
                for (std::size_t k = 0; k < run; ++k) CHECK(part.row(i) + k * d == part.row(i + k));
            }
            // Views of views compose.
            if (part.rows >= 2) {
                const RowsView<int> inner = part.rows_from(1, part.rows - 2).prefix(part.rows - 2);
                for (std::size_t i = 0; i < inner.rows; ++i) CHECK(inner.row(i) == all.row(begin + 1 + i));
            }
        }
    }
}

TEST_CASE("hybrid spec is canonical and the window is validated", "[caches][hybrid]") {
    CHECK(find_cache_type("hybrid").exact);
    CHECK(make_cache("hybrid", {2, 4, 0.25})->spec() == "hybrid:window=64");
    CHECK(make_cache("hybrid:window=0", {2, 4, 0.25})->spec() == "hybrid:window=0");
    CHECK_NOTHROW(parse_cache_spec("hybrid:window=65536"));
    CHECK_THROWS_AS(parse_cache_spec("hybrid:window=65537"), Error);
    CHECK_THROWS_AS(parse_cache_spec("hybrid:window=-1"), Error);
    CHECK_THROWS_AS(parse_cache_spec("hybrid:window=1.5"), Error);
}

TEST_CASE("hybrid is exact against the reference cache for window 0, 1, 5 and 64", "[caches][hybrid]") {
    // 150 tokens with 0–3 attends after each append: the window fills, then slides ~150 − w
    // times, so every slot of the square is rewritten many times (w = 1, 5).
    const std::size_t h = 2;
    std::uint64_t seed = 700;
    for (std::size_t d : {8, 16}) {
        const CacheShape shape{h, d, d == 8 ? default_tensor_scale(d) : 1.0 / std::sqrt(double(d))};
        for (std::size_t window : {0, 1, 5, 64}) {
            INFO(spec_of(window) << ", d = " << d << ", seed " << seed + 1);
            Rng rng(++seed);
            const CacheData data(rng, h, d, 150);
            check_against_reference(*make_cache(spec_of(window), shape), shape, data, kCacheTolerance,
                                    "hybrid " + spec_of(window) + " d=" + std::to_string(d) + " n=150");
        }
    }
}

TEST_CASE("hybrid stays exact when the window slides past 256-row factor chunks", "[caches][hybrid]") {
    // n = 600, w = 100: the recent rows [n − w, n) start mid-chunk and span a chunk boundary
    // (at 256 and 512), exercising rows_from with an offset inside the factor streams.
    const std::size_t h = 2, d = 8, n = 600;
    const CacheShape shape{h, d, 1.0 / d};
    Rng rng(800);
    const Matrix<float> k1 = random_matrix<float>(rng, n, h * d), k2 = random_matrix<float>(rng, n, h * d),
                        v1 = random_matrix<float>(rng, n, h * d), v2 = random_matrix<float>(rng, n, h * d),
                        q = random_matrix<float>(rng, n, h * d);
    const std::unique_ptr<Cache> cache = make_cache("hybrid:window=100", shape), reference = make_cache("reference", shape);
    const std::vector<std::size_t> checks = {99, 100, 101, 255, 256, 300, 355, 356, 511, 512, 599};
    for (std::size_t t = 0; t < n; ++t) {
        for (Cache* c : {cache.get(), reference.get()}) c->append(1, &k1(t, 0), &k2(t, 0), &v1(t, 0), &v2(t, 0));
        if (std::find(checks.begin(), checks.end(), t) == checks.end()) continue;
        std::vector<float> got(h * d), want(h * d);
        cache->attend(1, &q(t, 0), got.data());
        reference->attend(1, &q(t, 0), want.data());
        INFO("t = " << t);
        CHECK(relative_l2(got, want) <= kCacheTolerance);
    }
}

TEST_CASE("hybrid:window=0 is the fused factor cache", "[caches][hybrid]") {
    const std::size_t h = 2, d = 16;
    Rng rng(900);
    const CacheData data(rng, h, d, 120);
    {
        // The very same kernel call on the very same rows: identical on one thread.
        ThreadControl one_thread(1);
        CHECK(run_steps(*make_cache("hybrid:window=0", {h, d, 0.25}), data) ==
              run_steps(*make_cache("factor", {h, d, 0.25}), data));
    }
    const std::vector<std::vector<float>> got = run_steps(*make_cache("hybrid:window=0", {h, d, 0.25}), data);
    const std::vector<std::vector<float>> want = run_steps(*make_cache("factor", {h, d, 0.25}), data);
    double worst = 0;  // all threads: only the merge order of partials differs
    for (std::size_t a = 0; a < got.size(); ++a) worst = std::max(worst, relative_l2(got[a], want[a]));
    report_error("hybrid:window=0 vs factor", worst, 5e-6);
    CHECK(worst <= 5e-6);
    CHECK(hybrid_bytes(h, d, 120, 0) == h * 4 * 256 * d * sizeof(float));
}

TEST_CASE("hybrid with window ≥ n is the product cache", "[caches][hybrid]") {
    // Same pair rows in the same (shell) order as product, only chunked differently: equal
    // up to float rounding of a different GEMV split and merge order (measured ≤ 7e-7).
    const std::size_t h = 2, d = 8;
    Rng rng(1000);
    const CacheData data(rng, h, d, 120);
    for (std::size_t window : {120, 500}) {
        INFO(spec_of(window));
        const std::vector<std::vector<float>> got = run_steps(*make_cache(spec_of(window), {h, d, 0.125}), data);
        const std::vector<std::vector<float>> want = run_steps(*make_cache("product", {h, d, 0.125}), data);
        double worst = 0;
        for (std::size_t a = 0; a < got.size(); ++a) worst = std::max(worst, relative_l2(got[a], want[a]));
        report_error("hybrid " + spec_of(window) + " vs product", worst, 5e-6);
        CHECK(worst <= 5e-6);
    }
}

TEST_CASE("hybrid bytes(): factor streams + 2·⌈r²/w⌉·w·d pair floats per head", "[caches][hybrid][memory]") {
    const std::size_t h = 3, d = 5;
    for (std::size_t window : {0, 1, 5, 64, 300}) {
        const std::unique_ptr<Cache> cache = make_cache(spec_of(window), {h, d, 0.2});
        CHECK(cache->bytes() == 0);
        Rng rng(1100 + window);
        for (std::size_t tokens : {1, 2, 4, 5, 6, 7, 63, 64, 65, 130, 256, 257, 301, 520}) {
            while (cache->size() < tokens) append_random(*cache, rng);
            INFO(spec_of(window) << ", n = " << tokens);
            CHECK(cache->bytes() == hybrid_bytes(h, d, tokens, window));
            CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
        }
        // Once the window is full the square is exactly w² rows: factor memory + 2w²d floats.
        CHECK(cache->bytes() == h * (4 * round_up(520, 256) + 2 * window * window) * d * sizeof(float));
        cache->clear();
        CHECK(cache->bytes() == 0);
        // reserve(T) allocates what T tokens need; appends within it allocate nothing.
        cache->reserve(90);
        CHECK(cache->bytes() == hybrid_bytes(h, d, 90, window));
        const std::size_t reserved = cache->bytes();
        while (cache->size() < 90) append_random(*cache, rng);
        CHECK(cache->bytes() == reserved);
    }
}

TEST_CASE("hybrid cost model: every pair costs ~4d flops, the square streams and the rest reads factors", "[caches][hybrid]") {
    const std::size_t h = 2, d = 8, w = 10;
    const std::unique_ptr<Cache> cache = make_cache(spec_of(w), {h, d, 0.125});
    const double f = sizeof(float);
    const CacheCost small = cache->cost(6), large = cache->cost(50);
    CHECK(small.flops == 4.0 * 6 * 6 * d * h);
    CHECK(small.bytes_moved == 2.0 * 36 * d * f * h);  // all pairs stored: nothing recomputed
    CHECK(large.flops == 4.0 * 50 * 50 * d * h);
    CHECK(large.bytes_moved == (2.0 * w * w + 4.0 * 50 + 2.0 * 40) * d * f * h);
    CHECK(large.resident_bytes == double(hybrid_bytes(h, d, 50, w)));
    // w = 0 reads what factor reads: the four streams once.
    CHECK(make_cache("hybrid:window=0", {h, d, 0.125})->cost(50).bytes_moved == 4.0 * 50 * d * f * h);
}

TEST_CASE("hybrid scratch is O(tile): no n² or w² buffers", "[caches][hybrid][memory]") {
    const std::size_t h = 2, d = 16;
    std::vector<float> q(h * d), out(h * d);
    Rng rng(1200);
    for (float& x : q) x = float(rng.normal());
    for (std::size_t window : {1, 64, 300}) {
        INFO(spec_of(window));
        const std::unique_ptr<Cache> cache = make_cache(spec_of(window), {h, d, 1.0 / d});
        std::size_t at_500 = 0, at_2000 = 0;
        {
            // One thread: one reducer per kernel call at a time, whatever n is.
            ThreadControl one_thread(1);
            while (cache->size() < 500) append_random(*cache, rng);
            cache->attend(1, q.data(), out.data());
            at_500 = cache->transient_peak_bytes();
            while (cache->size() < 2000) append_random(*cache, rng);
            cache->attend(1, q.data(), out.data());
            at_2000 = cache->transient_peak_bytes();
        }
        {
            // Two threads: TBB may split a reduction a few times, each split one tile set.
            ThreadControl two_threads(2);
            cache->attend(1, q.data(), out.data());
        }
        report_value("hybrid " + spec_of(window) + " transient bytes, 2 threads, n=2000",
                     double(cache->transient_peak_bytes()));
        CHECK(at_500 > 0);
        CHECK(at_2000 == at_500);
        CHECK(cache->transient_peak_bytes() < (std::size_t(1) << 20));
        // One head's square alone would be 2·w²·d·4 bytes (11.5 MB at w = 300).
        if (window == 300) CHECK(cache->transient_peak_bytes() < 2 * window * window * d * sizeof(float) / 4);
    }
}
