#pragma once
// Sizes computed from untrusted numbers (command-line options, file headers) without wrapping:
// a product that does not fit in 64 bits, or a buffer larger than this machine's memory, is a
// one-line trikv::Error before anything is allocated, never a wrapped size or a bad_alloc.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>

#include "framework/error.hpp"

namespace trikv {

// The product of `factors` (any range of sizes), or nullopt if it does not fit in std::size_t.
template <class Sizes>
std::optional<std::size_t> checked_product(const Sizes& factors) {
    std::size_t product = 1;
    for (const std::size_t factor : factors) {
        if (factor != 0 && product > std::numeric_limits<std::size_t>::max() / factor) return std::nullopt;
        product *= factor;
    }
    return product;
}
inline std::optional<std::size_t> checked_product(std::initializer_list<std::size_t> factors) {
    return checked_product<std::initializer_list<std::size_t>>(factors);
}

// a + b, or nullopt if it does not fit in std::size_t.
inline std::optional<std::size_t> checked_sum(std::size_t a, std::size_t b) {
    if (a > std::numeric_limits<std::size_t>::max() - b) return std::nullopt;
    return a + b;
}

// Physical memory of this machine (RAM, not swap): no single run can use more.
inline std::size_t physical_memory_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0) return std::numeric_limits<std::size_t>::max();  // unknown: no bound
    return checked_product({std::size_t(pages), std::size_t(page_size)}).value_or(std::numeric_limits<std::size_t>::max());
}

// The bytes of `factors` (the last one the element size), refused when they overflow or exceed
// physical memory. `what` names the allocation and the options behind it, e.g.
// "prefill inputs (5 × heads × n × d × 4 bytes)".
inline std::size_t allocatable_bytes(std::initializer_list<std::size_t> factors, const std::string& what) {
    const std::optional<std::size_t> bytes = checked_product(factors);
    require(bytes.has_value(), what + " overflow 64 bits");
    const std::size_t memory = physical_memory_bytes();
    require(*bytes <= memory, what + " need " + std::to_string(*bytes) + " bytes, more than this machine's " +
                                  std::to_string(memory) + " bytes of memory");
    return *bytes;
}

}  // namespace trikv
