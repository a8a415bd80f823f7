// The cache registry (caches/registry.hpp): spec parsing, canonical specs, and the error
// messages, which must name the offending part and list what exists.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "caches/registry.hpp"
#include "framework/error.hpp"

using Catch::Contains;
using namespace trikv;

namespace {

// A parse-only type with one parameter of each kind, so numeric validation can be tested
// without depending on a real cache's parameters. Not exact (the conformance loop skips it)
// and not constructible.
[[maybe_unused]] const bool registered = register_cache({
    .name = "test-registry-params",
    .description = "test-only: parameters for registry tests; not constructible",
    .exact = false,
    .params = {{.name = "mode", .default_value = "a", .description = "a choice", .choices = {"a", "b"}},
               {.name = "rows",
                .default_value = "8",
                .description = "a whole number",
                .choices = {},
                .min = 1,
                .max = 100,
                .integer = true},
               {.name = "ratio", .default_value = "0.5", .description = "a number", .choices = {}, .min = 0, .max = 1}},
    .make = [](const CacheConfig&, const CacheShape&) -> std::unique_ptr<Cache> {
        throw Error("test-registry-params is not constructible");
    },
});

}  // namespace

TEST_CASE("registry: `factor` fills in the default strategy", "[registry]") {
    const CacheConfig config = parse_cache_spec("factor");
    CHECK(config.name() == "factor");
    CHECK(config.text("strategy") == "fused");
    CHECK(config.canonical() == "factor:strategy=fused,dtype=f32");
}

TEST_CASE("registry: `factor:strategy=recompute` selects the strategy", "[registry]") {
    const CacheConfig config = parse_cache_spec("factor:strategy=recompute");
    CHECK(config.name() == "factor");
    CHECK(config.text("strategy") == "recompute");
    CHECK(config.canonical() == "factor:strategy=recompute,dtype=f32");
    CHECK(make_cache("factor:strategy=recompute", {1, 4, 0.25})->spec() == "factor:strategy=recompute,dtype=f32");
}

TEST_CASE("registry: numbers are parsed, canonical specs list every parameter in declaration order", "[registry]") {
    const CacheConfig defaults = parse_cache_spec("test-registry-params");
    CHECK(defaults.canonical() == "test-registry-params:mode=a,rows=8,ratio=0.5");
    CHECK(defaults.integer("rows") == 8);
    CHECK(defaults.number("ratio") == 0.5);

    // Keys in any order; the canonical form keeps declaration order.
    const CacheConfig given = parse_cache_spec("test-registry-params:ratio=0.25,rows=100,mode=b");
    CHECK(given.canonical() == "test-registry-params:mode=b,rows=100,ratio=0.25");
    CHECK(given.integer("rows") == 100);
    CHECK(given.number("ratio") == 0.25);
    CHECK(parse_cache_spec("test-registry-params:rows=1").integer("rows") == 1);  // bounds are inclusive
    CHECK(parse_cache_spec("test-registry-params:ratio=1").number("ratio") == 1.0);
}

TEST_CASE("registry: every registered type's spec() is its canonical spec", "[registry]") {
    for (const CacheType* type : cache_types()) {
        if (type->name == "test-registry-params") continue;  // not constructible
        INFO("cache " << type->name);
        // In a variant the type computes (pair-logits computes strassen only).
        const CacheShape shape{2, 4, 0.25, 2, supported_variants(parse_cache_spec(type->name)).front()};
        const std::unique_ptr<Cache> cache = make_cache(type->name, shape);
        CHECK(cache->spec() == parse_cache_spec(type->name).canonical());
        CHECK(make_cache(cache->spec(), shape)->spec() == cache->spec());
    }
}

TEST_CASE("registry: the library's cache types are registered, sorted by name", "[registry]") {
    std::vector<std::string> names;
    for (const CacheType* type : cache_types()) names.push_back(type->name);
    CHECK(std::is_sorted(names.begin(), names.end()));
    for (const char* expected : {"factor", "product", "reference"}) {
        INFO(expected);
        CHECK(std::find(names.begin(), names.end(), expected) != names.end());
        CHECK(find_cache_type(expected).exact);
        CHECK_FALSE(find_cache_type(expected).description.empty());
    }
}

TEST_CASE("registry: an unknown cache name is rejected with the list of registered caches", "[registry]") {
    REQUIRE_THROWS_AS(parse_cache_spec("nosuch"), Error);
    for (const CacheType* type : cache_types()) {
        INFO(type->name);
        CHECK_THROWS_WITH(parse_cache_spec("nosuch:strategy=fused"), Contains("unknown cache 'nosuch'") && Contains(type->name));
    }
    CHECK_THROWS_WITH(make_cache("nosuch", {1, 4, 0.25}), Contains("unknown cache 'nosuch'"));
    CHECK_THROWS_WITH(find_cache_type("nosuch"), Contains("registered caches"));
    CHECK_THROWS_WITH(parse_cache_spec(""), Contains("unknown cache ''"));
}

TEST_CASE("registry: an unknown parameter is rejected with the list of parameters", "[registry]") {
    CHECK_THROWS_WITH(parse_cache_spec("factor:bogus=1"), Contains("unknown parameter 'bogus'") && Contains("strategy"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:size=3"),
                      Contains("unknown parameter 'size'") && Contains("mode, rows, ratio"));
    // A type without parameters says so.
    CHECK_THROWS_WITH(parse_cache_spec("reference:strategy=fused"),
                      Contains("unknown parameter 'strategy'") && Contains("none"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:Strategy=fused"), Contains("unknown parameter 'Strategy'"));
}

TEST_CASE("registry: a value outside the choices is rejected with the list of choices", "[registry]") {
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy=magic"),
                      Contains("strategy=magic") && Contains("fused|recompute"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy="), Contains("fused|recompute"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy=FUSED"), Contains("fused|recompute"));
}

TEST_CASE("registry: numeric parameters must be numbers, whole when integer, and in range", "[registry]") {
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:rows=ten"), Contains("rows=ten") && Contains("not a number"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:rows=2.5"), Contains("not a whole number"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:rows=0"), Contains("out of range [1, 100]"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:rows=101"), Contains("out of range [1, 100]"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:ratio=nan"), Contains("not a number"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:ratio=inf"), Contains("not a number"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:ratio=0.5x"), Contains("not a number"));
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:ratio=1.5"), Contains("out of range [0, 1]"));
}

TEST_CASE("registry: malformed key=value lists are rejected", "[registry]") {
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy"), Contains("'strategy'") && Contains("key=value"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:=fused"), Contains("key=value"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy=fused,"), Contains("key=value"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:,strategy=fused"), Contains("key=value"));
}

// `factor:` is rejected: the empty parameter list after ':' is as malformed as the empty
// one after ',' in `factor:strategy=fused,` (a regression test: it was once accepted).
TEST_CASE("registry: a ':' followed by nothing is rejected like a trailing ','", "[registry]") {
    CHECK_THROWS_WITH(parse_cache_spec("factor:"), Contains("key=value"));
    CHECK_THROWS_WITH(parse_cache_spec("product:"), Contains("key=value"));
}

TEST_CASE("registry: a parameter given twice is rejected", "[registry]") {
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy=fused,strategy=recompute"),
                      Contains("'strategy'") && Contains("twice"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy=fused,strategy=fused"), Contains("twice"));
}

TEST_CASE("registry: register_cache rejects duplicates, bad names and bad defaults", "[registry]") {
    const auto type = [](std::string name, std::string default_value) {
        return CacheType{.name = std::move(name),
                         .description = "",
                         .exact = true,
                         .params = {{.name = "p", .default_value = std::move(default_value), .description = "", .choices = {"x"}}},
                         .make = nullptr};
    };
    CHECK_THROWS_WITH(register_cache(type("factor", "x")), Contains("'factor'") && Contains("twice"));
    for (const char* bad : {"", "a:b", "a,b", "a=b", "a b"}) {
        INFO("name '" << bad << "'");
        CHECK_THROWS_WITH(register_cache(type(bad, "x")), Contains("invalid cache name"));
    }
    CHECK_THROWS_WITH(register_cache(type("test-bad-default", "y")), Contains("p=y") && Contains("x"));
    // None of the rejected types was registered.
    CHECK_THROWS_AS(find_cache_type("test-bad-default"), Error);
}

TEST_CASE("registry: while errors are deferred, register_cache records refusals instead of throwing", "[registry]") {
    const CacheType duplicate{.name = "factor", .description = "", .exact = true, .params = {}, .make = nullptr};
    {
        const DeferredRegistrationErrors deferred;
        CHECK_THROWS_AS(DeferredRegistrationErrors(), Error);  // one at a time
        CHECK_FALSE(register_cache(duplicate));
        REQUIRE(deferred.errors().size() == 1);
        CHECK_THAT(deferred.errors()[0], Contains("'factor'") && Contains("twice"));
    }
    CHECK_THROWS_WITH(register_cache(duplicate), Contains("twice"));  // thrown again once it is gone
}

TEST_CASE("registry: make_cache validates the shape", "[registry]") {
    CHECK_THROWS_WITH(make_cache("factor", {0, 4, 0.25}), Contains("heads=0"));
    CHECK_THROWS_WITH(make_cache("factor", {1, 0, 0.25}), Contains("dim=0"));
    CHECK_THROWS_WITH(make_cache("factor", {1, 4, std::numeric_limits<double>::quiet_NaN()}), Contains("scale"));
    CHECK_THROWS_WITH(make_cache("factor", {1, 4, std::numeric_limits<double>::infinity()}), Contains("scale"));
}

TEST_CASE("registry: CacheConfig rejects a key its type does not declare", "[registry]") {
    const CacheConfig config = parse_cache_spec("factor");
    CHECK_THROWS_WITH(config.text("rows"), Contains("no parameter 'rows'"));
}

TEST_CASE("registry: a misspelt name, parameter or choice gets a suggestion", "[registry][hostile]") {
    CHECK_THROWS_WITH(parse_cache_spec("facter"), Contains("unknown cache 'facter' (did you mean 'factor'?)"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:stratgy=fused"),
                      Contains("unknown parameter 'stratgy' (did you mean 'strategy'?)"));
    CHECK_THROWS_WITH(parse_cache_spec("factor:strategy=fuse"), Contains("(did you mean 'fused'?)"));
    // Nothing close: no suggestion.
    CHECK_THROWS_WITH(parse_cache_spec("zzzzzzzz"), !Contains("did you mean"));
}

TEST_CASE("registry: messages quote a huge or multi-line spec on one bounded line", "[registry][hostile]") {
    const std::string huge(100000, 'x');
    for (const std::string& spec : std::vector<std::string>{huge, "factor:" + huge, "factor:strategy=" + huge, "fac\ntor", "factor:a\nb=1"}) {
        INFO(spec.substr(0, 40));
        try {
            parse_cache_spec(spec);
            FAIL("accepted");
        } catch (const Error& e) {
            const std::string message = e.what();
            CHECK(message.size() < 2 * kMaxShownChars + 200);
            CHECK(message.find('\n') == std::string::npos);
        }
    }
    CHECK_THROWS_WITH(parse_cache_spec("fac\ntor"), Contains("unknown cache 'fac\\x0ator'"));
}

TEST_CASE("registry: bounds print as people write them", "[registry]") {
    CHECK(format_number(1048576) == "1048576");
    CHECK(format_number(1e9) == "1000000000");
    CHECK(format_number(0) == "0");
    CHECK(format_number(-3) == "-3");
    CHECK(format_number(0.5) == "0.5");
    CHECK(format_number(1e-9) == "1e-09");
    CHECK_THROWS_WITH(parse_cache_spec("test-registry-params:rows=101"), Contains("out of range [1, 100]"));
}
