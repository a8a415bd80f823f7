#pragma once
// The behaviour every exact cache type must show, as one reusable check:
// test_cache_conformance.cpp runs it for every registered exact type and parameter
// combination, test_only_cache.cpp for the test-only type it registers.
//
//   * random append/attend sequences (h = 2, d = 8 and 16, up to 70 tokens, zero to three
//     attends between appends) give the same outputs as the `reference` cache fed the same
//     tokens, within float32 tolerance (or the storage dtype's, cache_tolerance below), and
//     size() counts the tokens;
//   * attend on an empty cache throws trikv::Error; bytes() is 0 after clear();
//   * clear() and reuse gives bit-identical outputs to the fresh run (on one thread, so the
//     reduction order is fixed);
//   * spec() is canonical: parse_cache_spec accepts it and spells it the same way, and
//     make_cache(spec())->spec() == spec().
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/storage.hpp"
#include "framework/threads.hpp"
#include "support.hpp"

namespace trikv::test {

// Per-attend relative L2 error (over the h·d outputs) against the reference cache, which
// computes in float64 and rounds to float. Measured worst over all registered exact caches
// and 30 runs: 1.4e-6 (factor:recompute at 1025 tokens; TRIKV_REPORT_ERRORS=1 prints them; it
// varies slightly between runs with the order in which threads merge partial softmaxes):
// float storage and kernels (see test_tensor_attention.cpp) plus the final rounding. 1e-5 is
// a 7x margin; a missing, extra or misplaced pair (weight ~1/n² ≥ 2e-4 at n ≤ 70) moves
// the output by far more.
inline constexpr double kCacheTolerance = 1e-5;

// Caches with a `dtype` parameter (framework/storage.hpp) store rounded values when it is not
// f32; their error is then that rounding's, and f32 keeps kCacheTolerance. Each stored value
// is off by at most u relative (bf16 u = 2^-8, fp16 2^-11) or u·(its row's max |x|) (int8,
// u = 1/254). To first order the output's relative error is the values' (each pair value
// carries one or two rounded factors: ≤ 2u) plus the softmax weights' (a score error Δs
// changes a weight by a factor e^(±2Δs), and Δs ≤ 2u·scale·Σ_l|q_l·k1_il·k2_jl|, a few u for
// these data): 16u for the float formats. int8 rounds relative to the row max, 2-4x an average
// entry of these rows: 32u. Measured worst (TRIKV_REPORT_ERRORS=1, both tests here and
// test_cache_dtypes.cpp): bf16 5.1u, fp16 4.6u (factor, d = 16, 70 tokens), int8 9.7u (product,
// d = 16, 70 tokens): margins above 3x, while a missing or misplaced pair (weight ≥ 2e-4
// at n ≤ 70, see kCacheTolerance) still moves the output by far more than float rounding.
inline double storage_tolerance(Dtype dtype) {
    if (dtype == Dtype::f32) return kCacheTolerance;
    return (dtype == Dtype::int8 ? 32.0 : 16.0) * unit_roundoff(dtype);
}

// The tolerance for `spec`: storage_tolerance of its dtype, kCacheTolerance without one.
inline double cache_tolerance(const std::string& spec) {
    const CacheConfig config = parse_cache_spec(spec);
    for (const CacheParam& param : find_cache_type(config.name()).params)
        if (param.name == "dtype")
            return with_dtype(config.text("dtype"), [](auto s) { return storage_tolerance(dtype_of<decltype(s)>()); });
    return kCacheTolerance;
}

// One step of a sequence: append token `token`, or attend query `query`.
struct CacheStep {
    bool append;
    std::size_t index;  // token or query index
};

// A seeded random sequence of up to `tokens` appends with 0–3 attends after each (always at
// least one attend after the last append); the first step is always an append.
inline std::vector<CacheStep> random_steps(Rng& rng, std::size_t tokens) {
    std::vector<CacheStep> steps;
    std::size_t queries = 0;
    for (std::size_t t = 0; t < tokens; ++t) {
        steps.push_back({true, t});
        std::size_t attends = static_cast<std::size_t>(rng.uniform() * 4);  // 0, 1, 2 or 3
        if (t + 1 == tokens && attends == 0) attends = 1;
        for (std::size_t a = 0; a < attends; ++a) steps.push_back({false, queries++});
    }
    return steps;
}

// Tokens and queries of a sequence: each row is one [h, d] block, as Cache::append takes it.
struct CacheData {
    std::size_t heads, dim;
    Matrix<float> k1, k2, v1, v2;  // [tokens, h·d]
    Matrix<float> q;               // [queries, h·d]
    std::vector<CacheStep> steps;

    CacheData(Rng& rng, std::size_t h, std::size_t d, std::size_t tokens) : heads(h), dim(d) {
        steps = random_steps(rng, tokens);
        std::size_t queries = 0;
        for (const CacheStep& s : steps) queries += s.append ? 0 : 1;
        k1 = random_matrix<float>(rng, tokens, h * d);
        k2 = random_matrix<float>(rng, tokens, h * d);
        v1 = random_matrix<float>(rng, tokens, h * d);
        v2 = random_matrix<float>(rng, tokens, h * d);
        q = random_matrix<float>(rng, queries, h * d);
    }
};

// Runs the sequence on `cache` and returns every attend's output, [h·d] each; checks that
// size() counts the appended tokens.
inline std::vector<std::vector<float>> run_steps(Cache& cache, const CacheData& data) {
    const std::size_t width = data.heads * data.dim;
    std::vector<std::vector<float>> outputs;
    std::size_t tokens = 0;
    for (const CacheStep& step : data.steps) {
        if (step.append) {
            const std::size_t offset = step.index * width;
            cache.append(1, data.k1.data() + offset, data.k2.data() + offset, data.v1.data() + offset,
                         data.v2.data() + offset);
            REQUIRE(cache.size() == ++tokens);
        } else {
            std::vector<float> out(width);
            cache.attend(1, data.q.data() + step.index * width, out.data());
            outputs.push_back(std::move(out));
        }
    }
    return outputs;
}

// Runs `cache` (empty) and the float64 reference cache over the same steps: every attend within
// `tolerance` of the reference's; the worst error is reported under `label`.
inline void check_against_reference(Cache& cache, const CacheShape& shape, const CacheData& data, double tolerance,
                                    const std::string& label) {
    const std::unique_ptr<Cache> reference = make_cache("reference", shape);
    const std::vector<std::vector<float>> want = run_steps(*reference, data);
    const std::vector<std::vector<float>> got = run_steps(cache, data);
    REQUIRE(got.size() == want.size());
    double worst = 0;
    for (std::size_t a = 0; a < got.size(); ++a) {
        REQUIRE(all_finite(got[a]));
        const double error = relative_l2(got[a], want[a]);
        worst = std::max(worst, error);
        INFO("attend #" << a);
        CHECK(error <= tolerance);
    }
    report_error(label, worst, tolerance);
}

inline void check_cache_conformance(const std::string& spec) {
    INFO("cache spec '" << spec << "'");
    const std::string canonical = parse_cache_spec(spec).canonical();
    const double tolerance = cache_tolerance(spec);
    const std::size_t h = 2;
    std::uint64_t seed = 1000;
    for (std::size_t d : {8, 16}) {
        INFO("d = " << d);
        const CacheShape shape{h, d, d == 8 ? default_tensor_scale(d) : 1.0 / std::sqrt(double(d))};
        // Three sequences per d: a short one, 41 tokens (41² pairs cross product's 1024-row slab) and
        // 70; the kernels' block and tile edges are tested in test_tensor_attention.cpp.
        for (std::size_t tokens : {5, 41, 70}) {
            INFO("sequence of " << tokens << " tokens, seed " << seed + 1);
            Rng rng(++seed);
            const CacheData data(rng, h, d, tokens);

            const std::unique_ptr<Cache> cache = make_cache(spec, shape);
            REQUIRE(cache->size() == 0);
            CHECK_THROWS_AS([&] {
                std::vector<float> out(h * d);
                cache->attend(1, data.q.data(), out.data());
            }(), Error);
            if (tokens == 41) cache->reserve(tokens);  // reserving must not change results

            check_against_reference(*cache, shape, data, tolerance,
                                    "conformance " + spec + " d=" + std::to_string(d) + " n=" + std::to_string(tokens));

            // clear(): no tokens, no bytes, attend refuses again.
            cache->clear();
            CHECK(cache->size() == 0);
            CHECK(cache->bytes() == 0);
            CHECK_THROWS_AS([&] {
                std::vector<float> out(h * d);
                cache->attend(1, data.q.data(), out.data());
            }(), Error);

            // Reuse after clear() gives exactly what a fresh cache gives (one thread: the
            // reduction order of parallel kernels is then fixed).
            {
                ThreadControl one_thread(1);
                const std::unique_ptr<Cache> fresh = make_cache(spec, shape);
                const std::vector<std::vector<float>> first = run_steps(*fresh, data);
                const std::vector<std::vector<float>> reused = run_steps(*cache, data);
                CHECK(reused == first);
            }
        }
        // spec() is canonical and round-trips.
        const std::unique_ptr<Cache> cache = make_cache(spec, shape);
        CHECK(cache->spec() == canonical);
        CHECK_NOTHROW(parse_cache_spec(cache->spec()));
        CHECK(parse_cache_spec(cache->spec()).canonical() == cache->spec());
        CHECK(make_cache(cache->spec(), shape)->spec() == cache->spec());
        CHECK(cache->shape().heads == h);
        CHECK(cache->shape().dim == d);
    }
}

// The block interface (VAR's scale steps, SPEC §7): blocks of 1, 4, 9 and 2 tokens appended
// with append_block, each block's queries attended with attend_block, give the reference
// cache's outputs for the same steps; size() counts every token of a block; a block the
// memory limit refuses leaves the cache unchanged.
inline void check_block_conformance(const std::string& spec) {
    INFO("cache spec '" << spec << "' (blocks)");
    const std::size_t h = 2, d = 8, width = h * d;
    const CacheShape shape{h, d, default_tensor_scale(d)};
    const std::vector<std::size_t> blocks = {1, 4, 9, 2};
    std::size_t tokens = 0;
    for (std::size_t b : blocks) tokens += b;
    Rng rng(4242);
    const Matrix<float> k1 = random_matrix<float>(rng, tokens, width), k2 = random_matrix<float>(rng, tokens, width),
                        v1 = random_matrix<float>(rng, tokens, width), v2 = random_matrix<float>(rng, tokens, width),
                        q = random_matrix<float>(rng, tokens, width);
    const std::unique_ptr<Cache> cache = make_cache(spec, shape);
    const std::unique_ptr<Cache> reference = make_cache("reference", shape);
    std::size_t first = 0;
    for (std::size_t b : blocks) {
        const std::size_t at = first * width;
        cache->append(b, k1.data() + at, k2.data() + at, v1.data() + at, v2.data() + at);
        REQUIRE(cache->size() == first + b);
        std::vector<float> got(b * width), want(b * width);
        cache->attend(b, q.data() + at, got.data());
        for (std::size_t t = first; t < first + b; ++t)
            reference->append(1, &k1(t, 0), &k2(t, 0), &v1(t, 0), &v2(t, 0));
        for (std::size_t r = 0; r < b; ++r) reference->attend(1, q.data() + at + r * width, want.data() + r * width);
        for (std::size_t r = 0; r < b; ++r) {
            const std::vector<float> got_r(got.begin() + r * width, got.begin() + (r + 1) * width);
            const std::vector<float> want_r(want.begin() + r * width, want.begin() + (r + 1) * width);
            INFO("block at token " << first << ", query " << r);
            CHECK(relative_l2(got_r, want_r) <= cache_tolerance(spec));
        }
        first += b;
    }
    // A block that would pass the memory limit is refused before anything is appended.
    const std::size_t held = cache->bytes();
    cache->set_memory_limit(1);
    CHECK_THROWS_AS(cache->append(4, k1.data(), k2.data(), v1.data(), v2.data()), Error);
    CHECK(cache->size() == tokens);
    CHECK(cache->bytes() == held);
}

// Every parameter combination to try for a type: the cartesian product of the choices of each
// parameter that has choices; numeric parameters keep their default.
inline std::vector<std::string> conformance_specs(const CacheType& type) {
    std::vector<std::string> specs = {""};
    for (const CacheParam& param : type.params) {
        const std::vector<std::string> values =
            param.choices.empty() ? std::vector<std::string>{param.default_value} : param.choices;
        std::vector<std::string> next;
        for (const std::string& prefix : specs)
            for (const std::string& value : values)
                next.push_back(prefix + (prefix.empty() ? "" : ",") + param.name + "=" + value);
        specs = std::move(next);
    }
    for (std::string& spec : specs) spec = spec.empty() ? type.name : type.name + ":" + spec;
    return specs;
}

}  // namespace trikv::test
