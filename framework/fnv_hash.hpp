#pragma once
// FNV-1a, 64 bits: the hash behind every point key and data digest (results name configurations
// by it, so it must never change: stable across runs, machines and compilers, unlike std::hash).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace trikv {

class Fnv1a {
public:
    Fnv1a& mix(const void* bytes, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) hash_ = (hash_ ^ static_cast<const unsigned char*>(bytes)[i]) * 1099511628211ull;
        return *this;
    }
    Fnv1a& mix(std::string_view text) { return mix(text.data(), text.size()); }
    // 16 lower-case hex digits.
    std::string hex() const {
        char text[17];
        std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
        return text;
    }

private:
    std::uint64_t hash_ = 1469598103934665603ull;
};

}  // namespace trikv
