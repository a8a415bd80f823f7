// Conformance of every registered approximate tensor-attention cache type (trikv::cache_types()
// with exact = false), for every combination of its parameters' choices: the checks are
// check_approximate_conformance in conformance.hpp, including the exact caches' checks in
// the type's declared exact regime (CacheType::exact_regime). A new approximate type is
// covered as soon as it registers, with no edit here.
#include <catch2/catch.hpp>

#include "conformance.hpp"
#include "support.hpp"

using namespace trikv;

TEST_CASE("every approximate cache type conforms: exact regime, degenerate inputs, bytes, reuse, blocks",
          "[caches][conformance][approximate]") {
    std::size_t checked = 0, with_exact_regime = 0;
    for (const CacheType* type : cache_types()) {
        if (type->exact || type->attention != AttentionKind::tensor) continue;
        if (trikv::test::made_to_fail(type->name)) continue;
        for (const std::string& spec : test::conformance_specs(*type)) {
            test::check_approximate_conformance(*type, spec);
            ++checked;
        }
        if (type->exact_regime) ++with_exact_regime;
    }
    // window, subgen2, subgen4 at least; window declares an exact regime.
    CHECK(checked >= 3);
    CHECK(with_exact_regime >= 1);
}
