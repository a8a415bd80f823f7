// The test executable of trikv_add_conformance_test (trikv_conformance.cmake): loads the
// plugin library TRIKV_CONFORMANCE_LIBRARY, then runs check_type_conformance on each type in
// TRIKV_CONFORMANCE_TYPES (comma-separated). Catch2's command line works as usual.
#define CATCH_CONFIG_RUNNER
#include <testing/conformance.hpp>  // <prefix>/include/trikv/testing/

#include <dlfcn.h>

#include <cstdio>
#include <sstream>

TEST_CASE("the plugin's cache types conform: " TRIKV_CONFORMANCE_TYPES, "[conformance]") {
    std::istringstream types(TRIKV_CONFORMANCE_TYPES);
    for (std::string name; std::getline(types, name, ',');) {
        INFO("cache type '" << name << "' of " << TRIKV_CONFORMANCE_LIBRARY);
        const trikv::CacheType* type = nullptr;
        REQUIRE_NOTHROW(type = &trikv::find_cache_type(name));
        trikv::test::check_type_conformance(*type);
    }
}

int main(int argc, char** argv) {
    // RTLD_NOW: an unresolved symbol fails here, not in the middle of a check.
    if (dlopen(TRIKV_CONFORMANCE_LIBRARY, RTLD_NOW | RTLD_LOCAL) == nullptr) {
        std::fprintf(stderr, "conformance: %s cannot be loaded: %s\n", TRIKV_CONFORMANCE_LIBRARY, dlerror());
        return 2;
    }
    return Catch::Session().run(argc, argv);
}
