// libFuzzer target: any spec string parses to a validated configuration whose canonical form
// parses back to itself, or fails with a trikv::Error.
#include <cstdint>
#include <string>

#include "caches/registry.hpp"
#include "framework/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string spec(reinterpret_cast<const char*>(data), size);
    try {
        const std::string canonical = trikv::parse_cache_spec(spec).canonical();
        if (trikv::parse_cache_spec(canonical).canonical() != canonical) __builtin_trap();
    } catch (const trikv::Error&) {
    }
    return 0;
}
