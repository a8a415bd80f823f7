#pragma once
// The cache interface: a per-layer, multi-head KV cache for tensor attention. Small on
// purpose (FAISS's Index is the model): append a token, attend a query, clear, reserve, and
// report size, exact bytes, spec and cost. Each implementation lives in one file in caches/
// and registers itself (caches/registry.hpp).
#include <cstddef>
#include <string>

#include "attention/score_variant.hpp"
#include "framework/memory.hpp"

namespace trikv {

struct CacheShape {
    std::size_t heads = 1;  // query heads
    std::size_t dim = 64;
    // Multiplies every score (docs/math.md §1). 0 = unset: make_cache gives the type's attention
    // kind its default (default_scale), so every entry point computes the same function.
    double scale = 0;
    // Key/value heads (grouped-query attention, docs/math.md §9): query head h reads kv head
    // h / (heads / kv_heads). heads % kv_heads == 0; the default is one kv head per query head.
    std::size_t kv_heads = heads;
    ScoreVariant variant = ScoreVariant::trilinear;
    // Added to every k2 and v2 row as it is appended (docs/math.md §9); 0 is no shift.
    double k2_bias = 0;
    double v2_bias = 0;

    std::size_t group_size() const { return heads / kv_heads; }
    std::size_t kv_head_of(std::size_t head) const { return head / group_size(); }
    std::size_t query_width() const { return heads * dim; }  // floats of one token's q or out
    std::size_t kv_width() const { return kv_heads * dim; }   // floats of one token's k1, k2, v1 or v2
};

// What one attend costs at a given size, from the cache's own model (not measured).
struct CacheCost {
    double resident_bytes = 0;   // cache storage after `tokens` tokens
    double transient_bytes = 0;  // scratch one attend allocates
    double flops = 0;            // floating-point operations of one attend
    double bytes_moved = 0;      // bytes one attend must read from memory (storage it streams)
};

class Cache {
public:
    explicit Cache(const CacheShape& shape) : shape_(shape) {}
    virtual ~Cache() = default;
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;

    // Appends `count` tokens; each pointer holds [count, kv_heads, dim] floats, token-major (one
    // token is count = 1). The memory limit is checked for the whole block first, so a block
    // that would not fit leaves the cache as it was. The shape's k2/v2 bias is added here,
    // before the type sees the rows, so every type stores biased rows (see append in cache.cpp).
    void append(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2);
    // out[count, heads, dim]: each of `count` queries q[count, heads, dim] attends every stored
    // pair (i, j) (VAR's block step, docs/math.md §7, is count > 1: every query of a scale sees every
    // stored token). Needs at least one token. Scratch is counted: transient_peak_bytes()
    // covers the whole call.
    void attend(std::size_t count, const float* q, float* out);
    // Drops every token and returns the storage.
    void clear();
    // An append or reserve that would take resident bytes (by the cost model) above `bytes`
    // throws MemoryLimitError instead of allocating; 0 removes the limit.
    void set_memory_limit(std::size_t bytes) { memory_limit_ = bytes; }
    // Allocates storage for `tokens` tokens up front (appends then never allocate). Checked
    // before anything is allocated: the cost model's resident bytes at `tokens` must be within
    // the memory limit and this machine's physical memory (else trikv::Error, nothing
    // allocated). If allocating fails anyway, an empty cache returns all its storage before
    // the exception propagates, so it is left as it was and usable.
    void reserve(std::size_t tokens);

    std::size_t size() const { return tokens_; }
    const CacheShape& shape() const { return shape_; }
    // Bytes the cache holds now, counted through its allocator.
    std::size_t bytes() const { return resident_.current(); }
    // Of bytes(), those holding stored data: without the rows of storage chunks allocated ahead
    // and not yet filled (RowStore, PairedRowStore), so a design compares with its prototype
    // (a Python type's own report) whatever the chunk size. Alignment and indexes still count.
    std::size_t logical_bytes() const { return resident_.current() - resident_.unfilled(); }
    // Peak scratch bytes allocated during the last attend, counted.
    std::size_t transient_peak_bytes() const { return last_transient_peak_; }
    // The canonical spec string: every parameter spelled out; make_cache(spec()) rebuilds it.
    virtual std::string spec() const = 0;
    // Whether this cache computes its attention exactly (up to float32 rounding): its type's
    // answer for its parameters (caches/registry.hpp, is_exact), never read from spec text.
    bool exact() const;
    // Cost model of one attend after `tokens` tokens (defaults to the current size).
    virtual CacheCost cost(std::size_t tokens) const = 0;
    CacheCost cost() const { return cost(size()); }

protected:
    // What a type implements: the two calls above (the base has checked the limit and that the
    // cache is not empty) and clear. size() is the count before this append.
    virtual void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1,
                               const float* v2) = 0;
    virtual void attend_tokens(std::size_t count, const float* q, float* out) = 0;
    virtual void clear_storage() = 0;
    // Allocates storage for `tokens` tokens (reserve has checked the limits).
    virtual void reserve_storage(std::size_t tokens) = 0;

    // For types whose natural step is one token: push(index, k1, k2, v1, v2) for each token of
    // a block, index being its position in the cache; attend_one(q, out) for each query.
    template <class Push>
    void each_token(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2,
                    Push push) const {
        const std::size_t width = shape_.kv_width();
        for (std::size_t t = 0; t < count; ++t)
            push(tokens_ + t, k1 + t * width, k2 + t * width, v1 + t * width, v2 + t * width);
    }
    template <class AttendOne>
    void each_query(std::size_t count, const float* q, float* out, AttendOne attend_one) const {
        const std::size_t width = shape_.query_width();
        for (std::size_t r = 0; r < count; ++r) attend_one(q + r * width, out + r * width);
    }

    CacheShape shape_;
    MemoryMeter resident_;   // storage: everything the cache keeps between calls
    MemoryMeter transient_;  // scratch of one attend

private:
    void check_memory_limit(std::size_t tokens, const char* operation) const;

    std::size_t tokens_ = 0;
    std::size_t memory_limit_ = 0;
    std::size_t last_transient_peak_ = 0;
};

}  // namespace trikv
