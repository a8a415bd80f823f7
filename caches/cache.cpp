#include "caches/cache.hpp"

#include "caches/registry.hpp"
#include "framework/checked.hpp"
#include "framework/error.hpp"

namespace trikv {

bool Cache::exact() const { return is_exact(parse_cache_spec(spec())); }

void Cache::check_memory_limit(std::size_t tokens, const char* operation) const {
    if (memory_limit_ == 0) return;
    const double projected = cost(tokens).resident_bytes;
    if (projected <= static_cast<double>(memory_limit_)) return;
    // format_number: a cost model may give more than 64 bits hold, or NaN.
    throw MemoryLimitError(std::string(operation) + ": cache '" + spec() + "' would hold " +
                           format_number(projected) + " bytes at " + std::to_string(tokens) +
                           " tokens, above the memory limit of " + std::to_string(memory_limit_) + " bytes");
}

void Cache::append(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) {
    check_memory_limit(tokens_ + count, "append");
    if (shape_.k2_bias == 0 && shape_.v2_bias == 0) {
        append_tokens(count, k1, k2, v1, v2);
    } else {
        // The bias goes into the stored rows rather than into every kernel: it is part of the
        // token (the reference shifts its inputs too), so every type, exact or approximate,
        // honours it with no code of its own, and attend pays nothing for it.
        const std::size_t floats = count * shape_.kv_width();
        Buffer<float> biased_k2(floats, transient_), biased_v2(floats, transient_);
        for (std::size_t i = 0; i < floats; ++i) {
            biased_k2[i] = k2[i] + static_cast<float>(shape_.k2_bias);
            biased_v2[i] = v2[i] + static_cast<float>(shape_.v2_bias);
        }
        append_tokens(count, k1, biased_k2.data(), v1, biased_v2.data());
    }
    tokens_ += count;
}

void Cache::attend(std::size_t count, const float* q, float* out) {
    require(tokens_ > 0, "attend: the cache '" + spec() + "' is empty; append a token first");
    transient_.reset_peak();
    attend_tokens(count, q, out);
    last_transient_peak_ = transient_.peak() - transient_.current();
}

void Cache::reserve(std::size_t tokens) {
    if (tokens <= tokens_) return;
    check_memory_limit(tokens, "reserve");
    const double projected = cost(tokens).resident_bytes;
    const std::size_t memory = physical_memory_bytes();
    require(projected <= static_cast<double>(memory),
            "reserve: cache '" + spec() + "' would hold " + format_number(projected) + " bytes at " +
                std::to_string(tokens) + " tokens, more than this machine's " + std::to_string(memory) +
                " bytes of memory");
    try {
        reserve_storage(tokens);
    } catch (...) {
        if (tokens_ == 0) clear_storage();  // nothing stored: give back every chunk allocated so far
        throw;
    }
}

void Cache::clear() {
    clear_storage();
    tokens_ = 0;
}

}  // namespace trikv
