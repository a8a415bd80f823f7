// A cache with a memory limit refuses the append that would cross it, with a clear error and
// without changing what it holds; the CLI refuses up front.
#include <catch2/catch.hpp>

#include <vector>

#include "caches/registry.hpp"
#include "framework/error.hpp"

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
