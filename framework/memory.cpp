#include "framework/memory.hpp"

namespace trikv {

void MemoryMeter::on_allocate(std::size_t bytes) noexcept {
    const std::size_t now = current_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    std::size_t seen = peak_.load(std::memory_order_relaxed);
    while (now > seen && !peak_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
}

void MemoryMeter::on_release(std::size_t bytes) noexcept {
    current_.fetch_sub(bytes, std::memory_order_relaxed);
}

}  // namespace trikv
