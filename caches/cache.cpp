#include "caches/cache.hpp"

#include "framework/error.hpp"

namespace trikv {

void Cache::check_memory_limit(std::size_t tokens, const char* operation) const {
    if (memory_limit_ == 0) return;
    const double projected = cost(tokens).resident_bytes;
    require(projected <= static_cast<double>(memory_limit_),
            std::string(operation) + ": cache '" + spec() + "' would hold " + std::to_string(static_cast<long long>(projected)) +
                " bytes at " + std::to_string(tokens) + " tokens, above the memory limit of " +
                std::to_string(memory_limit_) + " bytes");
}

void Cache::append(const float* k1, const float* k2, const float* v1, const float* v2) {
    check_memory_limit(tokens_ + 1, "append");
    append_token(k1, k2, v1, v2);
    ++tokens_;
}

void Cache::attend(const float* q, float* out) {
    require(tokens_ > 0, "attend: the cache '" + spec() + "' is empty; append a token first");
    transient_.reset_peak();
    attend_query(q, out);
    last_transient_peak_ = transient_.peak() - transient_.current();
}

void Cache::append_block(std::size_t count, const float* k1, const float* k2, const float* v1,
                         const float* v2) {
    check_memory_limit(tokens_ + count, "append_block");
    const std::size_t width = shape_.heads * shape_.dim;
    for (std::size_t t = 0; t < count; ++t, ++tokens_) {
        const std::size_t at = t * width;
        append_token(k1 + at, k2 + at, v1 + at, v2 + at);
    }
}

void Cache::attend_block(std::size_t count, const float* q, float* out) {
    require(tokens_ > 0, "attend_block: the cache '" + spec() + "' is empty; append a token first");
    transient_.reset_peak();
    attend_queries(count, q, out);
    last_transient_peak_ = transient_.peak() - transient_.current();
}

void Cache::attend_queries(std::size_t count, const float* q, float* out) {
    const std::size_t width = shape_.heads * shape_.dim;
    for (std::size_t r = 0; r < count; ++r) attend_query(q + r * width, out + r * width);
}

void Cache::clear() {
    clear_storage();
    tokens_ = 0;
}

}  // namespace trikv
