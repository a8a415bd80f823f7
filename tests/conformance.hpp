#pragma once
// The behaviour every exact cache type must show, as one reusable check:
// test_cache_conformance.cpp runs it for every registered exact type and parameter
// combination, test_only_cache.cpp for the test-only type it registers, and, installed as
// <trikv/testing/conformance.hpp>, trikv_add_conformance_test (cmake/trikv_conformance.cmake)
// for a plugin's types (check_type_conformance, at the end of this file).
//
//   * random append/attend sequences (h = 2, d = 8 and 16, up to 70 tokens, zero to three
//     attends between appends) give the same outputs as the `reference` cache fed the same
//     tokens, within float32 tolerance (or the storage dtype's, cache_tolerance below), and
//     size() counts the tokens;
//   * the same on grouped heads (heads = 4 over kv_heads = 1, 2 and 4) with the k2/v2 bias,
//     and, for each score variant other than trilinear, on grouped heads with and without the
//     bias when the type computes the variant, else make_cache refuses it with an error naming
//     the variant (kGroupedKvHeads, check_variants; a type that computes strassen only is
//     walked in strassen first);
//   * attend on an empty cache throws trikv::Error; bytes() is 0 after clear();
//   * clear() and reuse gives bit-identical outputs to the fresh run (on one thread, so the
//     reduction order is fixed);
//   * spec() is canonical: parse_cache_spec accepts it and spells it the same way, and
//     make_cache(spec())->spec() == spec().
//
// Approximate types (exact = false) cannot be held to the reference on arbitrary data;
// check_approximate_conformance (run by test_approximate_conformance.cpp for every registered
// one) holds them to what an approximation still owes:
//   * in its exact regime, when the type declares one (CacheType::exact_regime), every check
//     above, block interface included;
//   * the reference's output on the two inputs every estimator of a softmax average gets
//     right: a single token (one pair, weight 1) and many identical tokens (equal scores, one
//     pair value; docs/math.md §6);
//   * bytes() == cost().resident_bytes after every append and after clear(): the cost model
//     the studies plot is the storage actually held;
//   * clear() and reuse gives bit-identical outputs to a fresh cache (one thread; a seeded
//     sketch must restart its generators);
//   * attend(count, …) equals attend(1, …) looped over the block's queries on the same cache state, and
//     a block the memory limit refuses leaves the cache unchanged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
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

// The longest sequence check_cache_conformance runs.
inline constexpr std::size_t kConformanceMaxTokens = 70;

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

// Tokens and queries of a sequence: each row of k1 … v2 is one [kv_heads, d] block, as
// Cache::append takes it, and each row of q one [heads, d] block.
struct CacheData {
    std::size_t heads, kv_heads, dim;
    Matrix<float> k1, k2, v1, v2;  // [tokens, kv_heads·d]
    Matrix<float> q;               // [queries, heads·d]
    std::vector<CacheStep> steps;

    CacheData(Rng& rng, std::size_t h, std::size_t d, std::size_t tokens) : CacheData(rng, h, h, d, tokens) {}
    CacheData(Rng& rng, std::size_t h, std::size_t kv, std::size_t d, std::size_t tokens)
        : heads(h), kv_heads(kv), dim(d) {
        steps = random_steps(rng, tokens);
        std::size_t queries = 0;
        for (const CacheStep& s : steps) queries += s.append ? 0 : 1;
        k1 = random_matrix<float>(rng, tokens, kv * d);
        k2 = random_matrix<float>(rng, tokens, kv * d);
        v1 = random_matrix<float>(rng, tokens, kv * d);
        v2 = random_matrix<float>(rng, tokens, kv * d);
        q = random_matrix<float>(rng, queries, h * d);
    }
};

// Runs the sequence on `cache` and returns every attend's output, [h·d] each; checks that
// size() counts the appended tokens and calls `after_append` (if given) after each append.
inline std::vector<std::vector<float>> run_steps(Cache& cache, const CacheData& data,
                                                 const std::function<void()>& after_append = {}) {
    const std::size_t width = data.heads * data.dim, kv_width = data.kv_heads * data.dim;
    std::vector<std::vector<float>> outputs;
    std::size_t tokens = 0;
    for (const CacheStep& step : data.steps) {
        if (step.append) {
            const std::size_t offset = step.index * kv_width;
            cache.append(1, data.k1.data() + offset, data.k2.data() + offset, data.v1.data() + offset,
                         data.v2.data() + offset);
            REQUIRE(cache.size() == ++tokens);
            if (after_append) after_append();
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

// Reuse of `cache` (cleared, empty) gives exactly what a fresh cache of `spec` gives (one
// thread: the reduction order of parallel kernels is then fixed).
inline void check_reuse_after_clear(Cache& cache, const std::string& spec, const CacheShape& shape,
                                    const CacheData& data) {
    ThreadControl one_thread(1);
    const std::unique_ptr<Cache> fresh = make_cache(spec, shape);
    const std::vector<std::vector<float>> first = run_steps(*fresh, data);
    const std::vector<std::vector<float>> reused = run_steps(cache, data);
    CHECK(reused == first);
}

// One random sequence of `tokens` tokens on a fresh cache of `spec` with `shape`: attend on an
// empty cache throws; every attend matches the reference cache; clear() empties it; reuse
// gives the fresh run's outputs exactly.
inline void check_sequence(const std::string& spec, const CacheShape& shape, std::size_t tokens, std::uint64_t seed) {
    INFO("heads " << shape.heads << " over kv_heads " << shape.kv_heads << ", d = " << shape.dim << ", variant "
                  << variant_name(shape.variant) << ", bias " << shape.k2_bias << "/" << shape.v2_bias);
    INFO("sequence of " << tokens << " tokens, seed " << seed);
    Rng rng(seed);
    const CacheData data(rng, shape.heads, shape.kv_heads, shape.dim, tokens);
    const std::size_t width = shape.heads * shape.dim;

    const std::unique_ptr<Cache> cache = make_cache(spec, shape);
    REQUIRE(cache->size() == 0);
    CHECK_THROWS_AS([&] {
        std::vector<float> out(width);
        cache->attend(1, data.q.data(), out.data());
    }(), Error);
    if (tokens == 41) cache->reserve(tokens);  // reserving must not change results

    check_against_reference(*cache, shape, data, cache_tolerance(spec),
                            "conformance " + spec + " h=" + std::to_string(shape.heads) + "/" +
                                std::to_string(shape.kv_heads) + " " + variant_name(shape.variant) +
                                " d=" + std::to_string(shape.dim) + " n=" + std::to_string(tokens));

    // clear(): no tokens, no bytes, attend refuses again.
    cache->clear();
    CHECK(cache->size() == 0);
    CHECK(cache->bytes() == 0);
    CHECK_THROWS_AS([&] {
        std::vector<float> out(width);
        cache->attend(1, data.q.data(), out.data());
    }(), Error);

    check_reuse_after_clear(*cache, spec, shape, data);
}

// Grouped-query shapes every type is held to: heads = 4 over 1 (multi-query), 2 and 4 kv heads.
inline constexpr std::array<std::size_t, 3> kGroupedKvHeads = {1, 2, 4};
inline constexpr std::size_t kGroupedHeads = 4;
// The reference implementation's bias defaults (docs/math.md §9), b_k = 1/d and b_v = 1.
inline CacheShape with_reference_bias(CacheShape shape) {
    shape.k2_bias = 1.0 / static_cast<double>(shape.dim);
    shape.v2_bias = 1.0;
    return shape;
}

// The variant the type is walked in first: trilinear, or its only one (the strassen cache).
inline ScoreVariant first_variant(const std::string& spec) { return supported_variants(parse_cache_spec(spec)).front(); }

// Each variant other than first_variant: computed like the reference on grouped heads, with and
// without the bias, if the type declares it (CacheType::variants); else make_cache refuses it
// with a one-line error naming the variant.
inline void check_variants(const std::string& spec) {
    const CacheConfig config = parse_cache_spec(spec);
    const std::vector<ScoreVariant> supported = supported_variants(config);
    std::uint64_t seed = 5000;
    for (ScoreVariant variant : {ScoreVariant::trilinear, ScoreVariant::rank1, ScoreVariant::strassen}) {
        if (variant == first_variant(spec)) continue;  // walked by check_cache_conformance
        INFO("variant " << variant_name(variant));
        CacheShape shape{kGroupedHeads, 8, default_tensor_scale(8), 2};
        shape.variant = variant;
        if (std::find(supported.begin(), supported.end(), variant) == supported.end()) {
            CHECK_THROWS_WITH(make_cache(spec, shape), Catch::Contains("variant=" + variant_name(variant)) &&
                                                           Catch::Contains(config.canonical()));
            continue;
        }
        check_sequence(spec, shape, 41, ++seed);
        check_sequence(spec, with_reference_bias(shape), 41, ++seed);
    }
}

inline void check_cache_conformance(const std::string& spec) {
    INFO("cache spec '" << spec << "'");
    const std::string canonical = parse_cache_spec(spec).canonical();
    const std::size_t h = 2;
    std::uint64_t seed = 1000;
    const ScoreVariant variant = first_variant(spec);
    for (std::size_t d : {8, 16}) {
        const CacheShape shape{h, d, d == 8 ? default_tensor_scale(d) : 1.0 / std::sqrt(double(d)), h, variant};
        // Three sequences per d: a short one, 41 tokens (41² pairs cross product's 1024-row slab) and
        // 70; the kernels' block and tile edges are tested in test_tensor_attention.cpp.
        for (std::size_t tokens : {std::size_t(5), std::size_t(41), kConformanceMaxTokens})
            check_sequence(spec, shape, tokens, ++seed);
        // spec() is canonical and round-trips.
        INFO("d = " << d);
        const std::unique_ptr<Cache> cache = make_cache(spec, shape);
        CHECK(cache->spec() == canonical);
        CHECK_NOTHROW(parse_cache_spec(cache->spec()));
        CHECK(parse_cache_spec(cache->spec()).canonical() == cache->spec());
        CHECK(make_cache(cache->spec(), shape)->spec() == cache->spec());
        CHECK(cache->shape().heads == h);
        CHECK(cache->shape().dim == d);
    }
    // Grouped heads, with the bias.
    for (std::size_t kv : kGroupedKvHeads)
        check_sequence(spec, with_reference_bias({kGroupedHeads, 8, default_tensor_scale(8), kv, variant}), 41, ++seed);
    check_variants(spec);
}

// A block of 4 tokens (rows of k1 … v2, [tokens, h·d]) that would pass the memory limit is
// refused before anything is appended: size() and bytes() stay as they were.
inline void check_block_refused_by_limit(Cache& cache, const Matrix<float>& k1, const Matrix<float>& k2,
                                         const Matrix<float>& v1, const Matrix<float>& v2) {
    const std::size_t held = cache.bytes(), tokens = cache.size();
    cache.set_memory_limit(1);
    CHECK_THROWS_AS(cache.append(4, k1.data(), k2.data(), v1.data(), v2.data()), Error);
    CHECK(cache.size() == tokens);
    CHECK(cache.bytes() == held);
    cache.set_memory_limit(0);
}

// Random tokens in blocks of 1, 4, 9 and 2 (d = 8; h = 2, or 4 query heads over `kv_heads`),
// each block with as many queries: VAR-like scale steps (docs/math.md §7). Rows of k1 … v2
// are [kv_heads·d] and rows of q [h·d], as Cache::append and attend take a block.
struct BlockData {
    static constexpr std::size_t kHeads = 2, kDim = 8, kTokens = 16;
    static constexpr std::array<std::size_t, 4> kBlocks = {1, 4, 9, 2};  // sizes, summing to kTokens
    std::size_t heads, kv_heads;
    Matrix<float> k1, k2, v1, v2, q;  // [kTokens, kv_heads·d], q [kTokens, h·d]

    explicit BlockData(std::uint64_t seed, std::size_t h = kHeads, std::size_t kv = kHeads) : heads(h), kv_heads(kv) {
        Rng rng(seed);
        for (Matrix<float>* x : {&k1, &k2, &v1, &v2}) *x = random_matrix<float>(rng, kTokens, kv * kDim);
        q = random_matrix<float>(rng, kTokens, h * kDim);
    }
    std::size_t width() const { return heads * kDim; }
    CacheShape shape(ScoreVariant variant = ScoreVariant::trilinear) const {
        return {heads, kDim, default_tensor_scale(kDim), kv_heads, variant};
    }
};

// Appends each block of `data` to `cache` with append(count, …), attends its queries with
// attend(count, …), and passes `check` the block's first token, its size and those outputs
// ([size, h·d]); size() must count every token of a block.
inline void run_blocks(Cache& cache, const BlockData& data,
                       const std::function<void(std::size_t first, std::size_t count, const std::vector<float>& out)>& check) {
    const std::size_t width = data.width(), kv_width = data.kv_heads * BlockData::kDim;
    std::size_t first = 0;
    for (std::size_t b : BlockData::kBlocks) {
        const std::size_t at = first * kv_width;
        cache.append(b, data.k1.data() + at, data.k2.data() + at, data.v1.data() + at, data.v2.data() + at);
        REQUIRE(cache.size() == first + b);
        std::vector<float> out(b * width);
        cache.attend(b, data.q.data() + first * width, out.data());
        check(first, b, out);
        first += b;
    }
}

// Each of the `count` [h·d] rows of `got` within `tolerance` (relative L2) of `want`'s.
inline void check_rows_close(const std::vector<float>& got, const std::vector<float>& want, std::size_t count,
                             double tolerance) {
    const std::size_t width = got.size() / count;
    for (std::size_t r = 0; r < count; ++r) {
        const std::vector<float> got_r(got.begin() + r * width, got.begin() + (r + 1) * width);
        const std::vector<float> want_r(want.begin() + r * width, want.begin() + (r + 1) * width);
        INFO("query " << r << " of the block");
        CHECK(relative_l2(got_r, want_r) <= tolerance);
    }
}

// The block interface: the outputs of run_blocks are the reference cache's for the same
// steps (h = 2, and 4 query heads over 1 and 2 kv heads: a block's queries and a group's heads
// are gathered together); a block the memory limit refuses leaves the cache unchanged.
inline void check_block_conformance(const std::string& spec) {
    for (const auto& [h, kv] : {std::pair<std::size_t, std::size_t>{2, 2}, {4, 1}, {4, 2}}) {
        INFO("cache spec '" << spec << "' (blocks), heads " << h << " over kv_heads " << kv);
        const BlockData data(4242, h, kv);
        const std::size_t width = data.width();
        const std::unique_ptr<Cache> cache = make_cache(spec, data.shape(first_variant(spec)));
        const std::unique_ptr<Cache> reference = make_cache("reference", data.shape(first_variant(spec)));
        run_blocks(*cache, data, [&](std::size_t first, std::size_t b, const std::vector<float>& got) {
            std::vector<float> want(b * width);
            for (std::size_t t = first; t < first + b; ++t)
                reference->append(1, &data.k1(t, 0), &data.k2(t, 0), &data.v1(t, 0), &data.v2(t, 0));
            for (std::size_t r = 0; r < b; ++r) reference->attend(1, &data.q(first + r, 0), want.data() + r * width);
            INFO("block at token " << first);
            check_rows_close(got, want, b, cache_tolerance(spec));
        });
        check_block_refused_by_limit(*cache, data.k1, data.k2, data.v1, data.v2);
    }
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

// ---- Approximate types (CacheType::exact == false): see the top of this file. ----

// The two inputs every estimator of a softmax average reproduces (docs/math.md §6), each
// against the reference cache within cache_tolerance(spec): one token, attended by three
// queries; then the same random token 40 more times (20 appends, then a block of 20),
// attended after each stage. Identical tokens give equal scores and one pair value, so
// estimates of the normaliser and the numerator must scale together exactly.
inline void check_degenerate_inputs(const std::string& spec) {
    INFO("cache spec '" << spec << "' (one token, identical tokens)");
    const std::size_t h = 2, d = 8, width = h * d, queries = 3, repeats = 20;
    const CacheShape shape{h, d, default_tensor_scale(d)};
    Rng rng(777);
    const Matrix<float> token = random_matrix<float>(rng, 4, width), q = random_matrix<float>(rng, queries, width);
    Matrix<float> block = Matrix<float>::from_shape({4 * repeats, width});  // k1 … v2 of `repeats` copies
    for (std::size_t s = 0; s < 4; ++s)
        for (std::size_t t = 0; t < repeats; ++t)
            for (std::size_t l = 0; l < width; ++l) block(s * repeats + t, l) = token(s, l);
    const std::unique_ptr<Cache> cache = make_cache(spec, shape), reference = make_cache("reference", shape);
    auto compare = [&](const std::string& stage) {
        for (std::size_t r = 0; r < queries; ++r) {
            std::vector<float> got(width), want(width);
            cache->attend(1, &q(r, 0), got.data());
            reference->attend(1, &q(r, 0), want.data());
            INFO(stage << ", query " << r);
            CHECK(relative_l2(got, want) <= cache_tolerance(spec));
        }
    };
    auto append = [&](Cache& c) { c.append(1, &token(0, 0), &token(1, 0), &token(2, 0), &token(3, 0)); };
    append(*cache);
    append(*reference);
    compare("one token");
    for (std::size_t t = 0; t < repeats; ++t) {
        append(*cache);
        append(*reference);
    }
    compare("21 identical tokens, appended one at a time");
    for (Cache* c : {cache.get(), reference.get()})
        c->append(repeats, &block(0, 0), &block(repeats, 0), &block(2 * repeats, 0), &block(3 * repeats, 0));
    compare("41 identical tokens, the last 20 as a block");
}

// bytes() == cost().resident_bytes after every append of a random sequence, and after clear().
inline void check_resident_bytes_model(const std::string& spec, const CacheShape& shape, const CacheData& data) {
    INFO("cache spec '" << spec << "' (bytes against the cost model)");
    const std::unique_ptr<Cache> cache = make_cache(spec, shape);
    run_steps(*cache, data, [&] {
        INFO("after " << cache->size() << " tokens");
        CHECK(static_cast<double>(cache->bytes()) == cache->cost().resident_bytes);
    });
    cache->clear();
    CHECK(cache->bytes() == 0);
    CHECK(cache->cost().resident_bytes == 0);
}

// attend(count, …) over each block's queries equals attend looped over them on the same cache
// state (within cache_tolerance(spec): a block may group its GEMMs differently, but must
// compute the same estimate); a block the memory limit refuses leaves the cache unchanged.
inline void check_block_equals_loop(const std::string& spec) {
    INFO("cache spec '" << spec << "' (attend(count) against attend(1))");
    const BlockData data(4343, kGroupedHeads, 2);
    const std::size_t width = data.width();
    const std::unique_ptr<Cache> cache = make_cache(spec, data.shape());
    run_blocks(*cache, data, [&](std::size_t first, std::size_t b, const std::vector<float>& got) {
        std::vector<float> want(b * width);
        for (std::size_t r = 0; r < b; ++r) cache->attend(1, &data.q(first + r, 0), want.data() + r * width);
        INFO("block at token " << first);
        check_rows_close(got, want, b, cache_tolerance(spec));
    });
    check_block_refused_by_limit(*cache, data.k1, data.k2, data.v1, data.v2);
}

// Every check of an approximate type's spec, plus, if the type declares an exact regime,
// the exact caches' conformance checks on the specs it gives for their sequence lengths
// (kConformanceMaxTokens, and BlockData::kTokens for the block check).
inline void check_approximate_conformance(const CacheType& type, const std::string& spec) {
    check_degenerate_inputs(spec);
    std::uint64_t seed = 3000;
    // h = 2 at d = 8 and 16, and 4 query heads over 1 kv head (storage and cost per kv head).
    for (const auto& [h, kv, d] : {std::array<std::size_t, 3>{2, 2, 8}, {2, 2, 16}, {kGroupedHeads, 1, 8}}) {
        INFO("d = " << d << ", heads " << h << " over kv_heads " << kv);
        const CacheShape shape{h, d, default_tensor_scale(d), kv};
        for (std::size_t tokens : {5, 41}) {
            INFO("sequence of " << tokens << " tokens, seed " << seed + 1);
            Rng rng(++seed);
            const CacheData data(rng, h, kv, d, tokens);
            check_resident_bytes_model(spec, shape, data);
            const std::unique_ptr<Cache> cache = make_cache(spec, shape);
            run_steps(*cache, data);
            cache->clear();
            check_reuse_after_clear(*cache, spec, shape, data);
        }
    }
    check_block_equals_loop(spec);
    if (type.exact_regime) {
        const std::string exact = type.exact_regime(kConformanceMaxTokens);
        const std::string exact_blocks = type.exact_regime(BlockData::kTokens);
        INFO("exact regime of " << type.name << ": '" << exact << "', for blocks '" << exact_blocks << "'");
        REQUIRE(parse_cache_spec(exact).name() == type.name);
        REQUIRE(parse_cache_spec(exact_blocks).name() == type.name);
        check_cache_conformance(exact);
        check_block_conformance(exact_blocks);
    }
}

// Every check of `type` for every combination of its parameters' choices: the exact caches'
// checks (sequences and blocks) for an exact type, check_approximate_conformance for an
// approximate one. What a plugin's conformance test runs (cmake/trikv_conformance_main.cpp).
inline void check_type_conformance(const CacheType& type) {
    for (const std::string& spec : conformance_specs(type)) {
        if (type.exact) {
            check_cache_conformance(spec);
            check_block_conformance(spec);
        } else {
            check_approximate_conformance(type, spec);
        }
    }
}

}  // namespace trikv::test
