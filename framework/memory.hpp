#pragma once
// Exact byte accounting. Every buffer a cache or kernel owns is allocated through a
// MemoryMeter, so "resident bytes" and "peak transient bytes of one step" are counted, not
// sampled from RSS. Buffers are 64-byte aligned so SIMD loads never split cache lines.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

namespace trikv {

class MemoryMeter {
public:
    void on_allocate(std::size_t bytes) noexcept;
    void on_release(std::size_t bytes) noexcept;
    std::size_t current() const noexcept { return current_.load(std::memory_order_relaxed); }
    std::size_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }
    // Starts a new peak window at the current level (call before the operation you measure).
    void reset_peak() noexcept { peak_.store(current(), std::memory_order_relaxed); }

    // Of current(), the bytes allocated ahead of the data: rows of a chunked store
    // (caches/row_store.hpp, paired_row_store.hpp) not yet filled. current() − unfilled() is
    // what Cache::logical_bytes reports.
    void on_allocate_unfilled(std::size_t bytes) noexcept { unfilled_.fetch_add(bytes, std::memory_order_relaxed); }
    void on_fill(std::size_t bytes) noexcept { unfilled_.fetch_sub(bytes, std::memory_order_relaxed); }
    std::size_t unfilled() const noexcept { return unfilled_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> current_{0};
    std::atomic<std::size_t> peak_{0};
    std::atomic<std::size_t> unfilled_{0};
};

// A fixed-size, 64-byte-aligned, move-only array whose bytes are charged to a meter for its
// whole lifetime. Contents are uninitialised: kernels write before they read.
template <class T>
class Buffer {
public:
    Buffer() = default;
    Buffer(std::size_t count, MemoryMeter& meter) : count_(count), meter_(&meter) {
        if (count_ == 0) return;
        data_ = static_cast<T*>(::operator new(bytes(), std::align_val_t{alignment}));
        meter_->on_allocate(bytes());
    }
    Buffer(Buffer&& other) noexcept { swap(other); }
    Buffer& operator=(Buffer&& other) noexcept {
        Buffer(std::move(other)).swap(*this);
        return *this;
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() {
        if (!data_) return;
        ::operator delete(data_, std::align_val_t{alignment});
        meter_->on_release(bytes());
    }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return count_; }
    std::size_t bytes() const noexcept { return count_ * sizeof(T); }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }

    void swap(Buffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(count_, other.count_);
        std::swap(meter_, other.meter_);
    }

    static constexpr std::size_t alignment = 64;

private:
    T* data_ = nullptr;
    std::size_t count_ = 0;
    MemoryMeter* meter_ = nullptr;
};

// Charges `bytes` to a meter for its lifetime: for scratch held in containers the meter cannot
// see (e.g. xtensor arrays handed to an API that takes them), so the count stays exact.
class MemoryCharge {
public:
    MemoryCharge(MemoryMeter& meter, std::size_t bytes) : meter_(meter), bytes_(bytes) { meter_.on_allocate(bytes_); }
    ~MemoryCharge() { meter_.on_release(bytes_); }
    MemoryCharge(const MemoryCharge&) = delete;
    MemoryCharge& operator=(const MemoryCharge&) = delete;

private:
    MemoryMeter& meter_;
    std::size_t bytes_;
};

}  // namespace trikv
