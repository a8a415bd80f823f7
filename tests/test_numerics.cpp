// Numerics at the edges the reliability issue names: wide heads (d up to 1024) and denormal
// inputs, through the engine and through every exact cache, against the float64 reference.
#include <catch2/catch.hpp>

#include <limits>

#include "attention/reference.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "support.hpp"

using namespace trikv;

TEMPLATE_TEST_CASE("tensor_prefill is accurate for d up to 1024", "[tensor][numerics]", float, double) {
    // float32 tolerance as elsewhere (1e-5 relative L2); a d-term score sum rounds like √d·ε,
    // still far below it at d = 1024 with scale 1/d.
    const double tolerance = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
    for (std::size_t d : {512, 1024}) {
        Rng rng(d);
        const auto in = test::random_tensor_inputs<TestType>(rng, 9, d);
        const auto got = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, true, TestType(1.0 / d));
        const auto want = reference::tensor_prefill(test::to_double(in.q), test::to_double(in.k1),
                                                    test::to_double(in.k2), test::to_double(in.v1),
                                                    test::to_double(in.v2), true, 1.0 / d);
        INFO("d = " << d);
        CHECK(test::all_finite(got));
        CHECK(test::relative_l2(got, want) <= tolerance);
    }
}

TEST_CASE("denormal inputs give finite outputs that match the reference", "[tensor][numerics]") {
    // Keys and values at the bottom of float's subnormal range: scores underflow to 0 (a
    // uniform softmax) and outputs are products of subnormals, i.e. exactly 0 in float.
    const std::size_t n = 20, d = 16;
    Rng rng(7);
    auto in = test::random_tensor_inputs<float>(rng, n, d);
    const float tiny = std::numeric_limits<float>::denorm_min() * 1000;
    for (Matrix<float>* m : {&in.k1, &in.k2, &in.v1}) *m *= tiny;
    const auto got = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, true, 1.0f / d);
    CHECK(test::all_finite(got));
    const auto want = reference::tensor_prefill(test::to_double(in.q), test::to_double(in.k1), test::to_double(in.k2),
                                                test::to_double(in.v1), test::to_double(in.v2), true, 1.0 / d);
    // The exact outputs are ~1e-42·O(1): below float's range, so float must give ~0.
    CHECK(test::max_abs_diff(got, want) < 1e-38);

    for (const char* spec : {"product", "factor", "factor:strategy=recompute", "hybrid:window=4"}) {
        const auto cache = make_cache(spec, {1, d, 1.0 / d});
        std::vector<float> out(d);
        for (std::size_t t = 0; t < n; ++t) {
            cache->append(1, &in.k1(t, 0), &in.k2(t, 0), &in.v1(t, 0), &in.v2(t, 0));
            cache->attend(1, &in.q(t, 0), out.data());
            for (float x : out) CHECK(std::isfinite(x));
        }
    }
}
