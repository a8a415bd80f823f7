// window:w1=…,w2=… (caches/window_cache.cpp): sliding-window tensor attention. It is registered
// as approximate (it is not full attention), so the generic conformance test skips it; here it
// is held to a float64 loop over exactly its allowed set i ∈ (t−w1, t], j ∈ (t−w2, t], to full
// attention while the window still covers everything, to its memory formula, and to the
// expectation that a wider window approximates full attention better.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "conformance.hpp"
#include "framework/error.hpp"
#include "framework/threads.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

// Windowed tensor attention of query `query` at step t, every head, in float64 over the
// float inputs of `data` (rows are tokens, [h·d] wide): plain loops over the exact pair set.
std::vector<double> window_reference(const CacheData& data, std::size_t query, std::size_t t, std::size_t w1,
                                     std::size_t w2, double scale) {
    const std::size_t h = data.heads, d = data.dim;
    const std::size_t i0 = t + 1 > w1 ? t + 1 - w1 : 0, j0 = t + 1 > w2 ? t + 1 - w2 : 0;
    std::vector<double> out(h * d, 0.0);
    for (std::size_t head = 0; head < h; ++head) {
        const std::size_t c = head * d;
        auto score = [&](std::size_t i, std::size_t j) {
            double s = 0;
            for (std::size_t l = 0; l < d; ++l)
                s += double(data.q(query, c + l)) * double(data.k1(i, c + l)) * double(data.k2(j, c + l));
            return scale * s;
        };
        double top = -std::numeric_limits<double>::infinity();
        for (std::size_t i = i0; i <= t; ++i)
            for (std::size_t j = j0; j <= t; ++j) top = std::max(top, score(i, j));
        double norm = 0;
        for (std::size_t i = i0; i <= t; ++i)
            for (std::size_t j = j0; j <= t; ++j) {
                const double p = std::exp(score(i, j) - top);
                norm += p;
                for (std::size_t l = 0; l < d; ++l)
                    out[c + l] += p * double(data.v1(i, c + l)) * double(data.v2(j, c + l));
            }
        for (std::size_t l = 0; l < d; ++l) out[c + l] /= norm;
    }
    return out;
}

// Runs data's append/attend sequence; for every attend, returns (step t, output).
std::vector<std::pair<std::size_t, std::vector<float>>> run_with_steps(Cache& cache, const CacheData& data) {
    std::vector<std::pair<std::size_t, std::vector<float>>> outputs;
    const std::size_t width = data.heads * data.dim;
    for (const CacheStep& step : data.steps) {
        if (step.append) {
            const std::size_t offset = step.index * width;
            cache.append(1, data.k1.data() + offset, data.k2.data() + offset, data.v1.data() + offset,
                         data.v2.data() + offset);
        } else {
            std::vector<float> out(width);
            cache.attend(1, data.q.data() + step.index * width, out.data());
            outputs.emplace_back(cache.size() - 1, std::move(out));
        }
    }
    return outputs;
}

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// The documented formula (caches/window_cache.cpp): per head, K1 and V1 hold R(min(n, w1))
// rows, K2 and V2 R(min(n, w2)), R(r) = r rounded up to chunks of min(w, 256) rows.
std::size_t window_bytes(std::size_t h, std::size_t d, std::size_t n, std::size_t w1, std::size_t w2) {
    const auto ring = [&](std::size_t w) { return round_up(std::min(n, w), std::min<std::size_t>(w, 256)); };
    return h * 2 * (ring(w1) + ring(w2)) * d * sizeof(float);
}

void append_random(Cache& cache, Rng& rng) {
    const std::size_t width = cache.shape().heads * cache.shape().dim;
    std::vector<float> x(4 * width);
    for (float& value : x) value = float(rng.normal());
    cache.append(1, x.data(), x.data() + width, x.data() + 2 * width, x.data() + 3 * width);
}

}  // namespace

TEST_CASE("window is registered as approximate, with canonical spec and validated widths", "[caches][window]") {
    CHECK_FALSE(find_cache_type("window").exact);
    CHECK(make_cache("window", {2, 4, 0.25})->spec() == "window:w1=64,w2=64");
    CHECK(make_cache("window:w2=3,w1=17", {2, 4, 0.25})->spec() == "window:w1=17,w2=3");
    CHECK(parse_cache_spec("window:w1=17,w2=3").canonical() == "window:w1=17,w2=3");
    CHECK_NOTHROW(parse_cache_spec("window:w1=1,w2=16777216"));
    CHECK_THROWS_AS(parse_cache_spec("window:w1=0"), Error);
    CHECK_THROWS_AS(parse_cache_spec("window:w2=16777217"), Error);
    CHECK_THROWS_AS(parse_cache_spec("window:w1=2.5"), Error);
}

TEST_CASE("window equals a float64 loop over exactly its (i, j) window, below and far above w", "[caches][window]") {
    // (w1, w2) with w1 ≠ w2 both ways, w = 1, and windows wider than the sequence, over 150
    // tokens, so t runs from inside the window to far beyond; then rings of two 256-row chunks
    // (w = 260) that wrap twice in 600 tokens.
    const std::vector<std::tuple<std::size_t, std::size_t, std::size_t>> cases = {
        {1, 1, 150},   {1, 7, 150},   {7, 1, 150},    {5, 3, 150},    {3, 40, 150},
        {16, 16, 150}, {64, 64, 150}, {300, 257, 150}, {260, 5, 600}, {5, 260, 600}};
    const std::size_t h = 2;
    std::uint64_t seed = 100;
    for (std::size_t d : {8, 16}) {
        const double scale = d == 8 ? default_tensor_scale(d) : 1.0 / std::sqrt(double(d));
        for (const auto& [w1, w2, tokens] : cases) {
            const std::string spec = "window:w1=" + std::to_string(w1) + ",w2=" + std::to_string(w2);
            INFO(spec << ", d = " << d << ", seed " << seed + 1);
            Rng rng(++seed);
            const CacheData data(rng, h, d, tokens);
            const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, scale});
            double worst = 0;
            std::size_t below = 0, above = 0;  // attends with t < min(w1, w2), and the others
            const auto outputs = run_with_steps(*cache, data);
            for (std::size_t query = 0; query < outputs.size(); ++query) {
                const auto& [t, out] = outputs[query];
                REQUIRE(all_finite(out));
                (t < std::min(w1, w2) ? below : above) += 1;
                const double error = relative_l2(out, window_reference(data, query, t, w1, w2, scale));
                worst = std::max(worst, error);
                INFO("t = " << t);
                CHECK(error <= kCacheTolerance);
            }
            report_error("window " + spec + " d=" + std::to_string(d), worst, kCacheTolerance);
            if (std::max(w1, w2) < tokens / 2) CHECK(above > 0);  // t went far past the window
            if (std::min(w1, w2) > 1) CHECK(below > 0);           // and was inside it first
        }
    }
}

TEST_CASE("window is full tensor attention while t < min(w1, w2)", "[caches][window]") {
    const std::size_t h = 2, d = 8;
    for (const auto& [w1, w2] : std::vector<std::pair<std::size_t, std::size_t>>{{40, 30}, {30, 40}, {70, 70}}) {
        const std::string spec = "window:w1=" + std::to_string(w1) + ",w2=" + std::to_string(w2);
        INFO(spec);
        Rng rng(200 + w1);
        const CacheData data(rng, h, d, std::min(w1, w2));  // last attend at t = min(w1, w2) − 1
        const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, 1.0 / d});
        const std::unique_ptr<Cache> reference = make_cache("reference", {h, d, 1.0 / d});
        const std::vector<std::vector<float>> want = run_steps(*reference, data);
        const std::vector<std::vector<float>> got = run_steps(*cache, data);
        REQUIRE(got.size() == want.size());
        for (std::size_t a = 0; a < got.size(); ++a) {
            INFO("attend #" << a);
            CHECK(relative_l2(got[a], want[a]) <= kCacheTolerance);
        }
        // One token more and the oldest token drops out of the smaller window: no longer full.
        std::vector<float> x(4 * h * d), out(h * d), full(h * d);
        for (float& value : x) value = float(rng.normal());
        for (Cache* c : {cache.get(), reference.get()}) c->append(1, x.data(), x.data() + h * d, x.data() + 2 * h * d, x.data() + 3 * h * d);
        cache->attend(1, x.data(), out.data());
        reference->attend(1, x.data(), full.data());
        CHECK(relative_l2(out, full) > 1e-4);
    }
}

TEST_CASE("window bytes(): two rings of w1 and two of w2 rows per head, allocated as tokens arrive", "[caches][window][memory]") {
    const std::size_t h = 3, d = 5;
    // w ≤ 256 is one chunk of w rows (exactly 2(w1+w2)d per head when full); 300 and 600 are
    // 256-row chunks, the last one whole (600 → 768 rows).
    for (const auto& [w1, w2] : std::vector<std::pair<std::size_t, std::size_t>>{{64, 64}, {1, 7}, {300, 5}, {600, 256}}) {
        const std::string spec = "window:w1=" + std::to_string(w1) + ",w2=" + std::to_string(w2);
        const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, 0.2});
        CHECK(cache->bytes() == 0);
        CHECK(cache->cost(0).resident_bytes == 0);
        Rng rng(300);
        for (std::size_t tokens : {1, 2, 7, 8, 63, 64, 65, 256, 257, 300, 301, 700}) {
            while (cache->size() < tokens) append_random(*cache, rng);
            INFO(spec << ", n = " << tokens);
            CHECK(cache->bytes() == window_bytes(h, d, tokens, w1, w2));
            CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
        }
        if (w1 <= 256 && w2 <= 256) CHECK(cache->bytes() == h * 2 * (w1 + w2) * d * sizeof(float));
        cache->clear();
        CHECK(cache->bytes() == 0);
        // reserve(T) allocates exactly what T tokens need; appends then allocate nothing.
        cache->reserve(100);
        CHECK(cache->bytes() == window_bytes(h, d, 100, w1, w2));
        const std::size_t reserved = cache->bytes();
        while (cache->size() < 100) append_random(*cache, rng);
        CHECK(cache->bytes() == reserved);
    }
    // A window far wider than the sequence costs only the tokens it holds.
    const std::unique_ptr<Cache> wide = make_cache("window:w1=16777216,w2=16777216", {1, 4, 0.25});
    Rng rng(301);
    for (int t = 0; t < 10; ++t) append_random(*wide, rng);
    CHECK(wide->bytes() == 4 * 256 * 4 * sizeof(float));
}

TEST_CASE("window cost model: flops and bytes moved follow the window, not n", "[caches][window]") {
    const std::unique_ptr<Cache> cache = make_cache("window:w1=16,w2=4", {2, 8, 0.125});
    const CacheCost small = cache->cost(3), large = cache->cost(1000), larger = cache->cost(100000);
    CHECK(small.flops == 4.0 * 3 * 3 * 8 * 2);
    CHECK(large.flops == 4.0 * 16 * 4 * 8 * 2);
    CHECK(larger.flops == large.flops);
    CHECK(large.bytes_moved == 2.0 * (16 + 4) * 8 * sizeof(float) * 2);
    CHECK(larger.resident_bytes == large.resident_bytes);
}

TEST_CASE("window scratch is O(tile): the same at n = 500 and n = 2000", "[caches][window][memory]") {
    const std::unique_ptr<Cache> cache = make_cache("window:w1=300,w2=300", {2, 16, 1.0 / 16});
    Rng rng(400);
    std::vector<float> q(32), out(32);
    for (float& x : q) x = float(rng.normal());
    ThreadControl one_thread(1);
    while (cache->size() < 500) append_random(*cache, rng);
    cache->attend(1, q.data(), out.data());
    const std::size_t at_500 = cache->transient_peak_bytes();
    while (cache->size() < 2000) append_random(*cache, rng);
    cache->attend(1, q.data(), out.data());
    CHECK(at_500 > 0);
    CHECK(cache->transient_peak_bytes() == at_500);
    CHECK(at_500 < (std::size_t(1) << 20));
}

TEST_CASE("window clear() and reuse give bit-identical outputs", "[caches][window]") {
    const std::size_t h = 2, d = 8;
    Rng rng(500);
    const CacheData data(rng, h, d, 90);
    ThreadControl one_thread(1);
    const std::unique_ptr<Cache> cache = make_cache("window:w1=20,w2=9", {h, d, 0.125});
    const std::vector<std::vector<float>> first = run_steps(*cache, data);
    cache->clear();
    CHECK(cache->size() == 0);
    CHECK_THROWS_AS([&] {
        std::vector<float> out(h * d);
        cache->attend(1, data.q.data(), out.data());
    }(), Error);
    CHECK(run_steps(*cache, data) == first);
}

TEST_CASE("window error against full attention falls as the window grows (n = 200)", "[caches][window]") {
    // Same data for every window; mean relative L2 error over the attends at t = 180…199
    // against the float64 full-attention engine. On this data the decrease is strict over
    // w = 4, 16, 64 (measured 26.7, 10.6, 2.80: relative errors above 1, since full attention
    // averages ~n² random pairs to a small output) and w = 200 (the whole sequence) is exact.
    const std::size_t h = 2, d = 16, n = 200, first_query = 180;
    const double scale = 1.0 / std::sqrt(double(d));
    Rng rng(600);
    const Matrix<float> k1 = random_matrix<float>(rng, n, h * d), k2 = random_matrix<float>(rng, n, h * d),
                        v1 = random_matrix<float>(rng, n, h * d), v2 = random_matrix<float>(rng, n, h * d),
                        q = random_matrix<float>(rng, n, h * d);
    std::vector<std::vector<double>> exact;
    for (std::size_t t = first_query; t < n; ++t) {
        std::vector<double> out(h * d);
        MemoryMeter scratch;
        for (std::size_t head = 0; head < h; ++head) {
            const auto column = [&](const Matrix<float>& x) {
                Matrix<double> m = Matrix<double>::from_shape({t + 1, d});
                for (std::size_t i = 0; i <= t; ++i)
                    for (std::size_t l = 0; l < d; ++l) m(i, l) = x(i, head * d + l);
                return m;
            };
            const Matrix<double> K1 = column(k1), K2 = column(k2), V1 = column(v1), V2 = column(v2);
            std::vector<double> query(d);
            for (std::size_t l = 0; l < d; ++l) query[l] = q(t, head * d + l);
            const auto rows = [&](const Matrix<double>& m) { return RowsView<double>::contiguous(m.data(), t + 1, d); };
            tensor_decode(query.data(), rows(K1), rows(K2), rows(V1), rows(V2), scale, out.data() + head * d, scratch);
        }
        exact.push_back(std::move(out));
    }
    std::vector<double> errors;
    for (std::size_t w : {4, 16, 64, 200}) {
        const std::unique_ptr<Cache> cache =
            make_cache("window:w1=" + std::to_string(w) + ",w2=" + std::to_string(w), {h, d, scale});
        double total = 0;
        for (std::size_t t = 0; t < n; ++t) {
            cache->append(1, &k1(t, 0), &k2(t, 0), &v1(t, 0), &v2(t, 0));
            if (t < first_query) continue;
            std::vector<float> out(h * d);
            cache->attend(1, &q(t, 0), out.data());
            total += relative_l2(out, exact[t - first_query]);
        }
        errors.push_back(total / double(n - first_query));
        report_value("window w=" + std::to_string(w) + " mean rel error vs full, n=200", errors.back());
    }
    CHECK(errors[0] > errors[1]);
    CHECK(errors[1] > errors[2]);
    CHECK(errors[2] > errors[3]);
    CHECK(errors[3] <= kCacheTolerance);  // w = n: the window is everything
}
