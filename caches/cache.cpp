#include "caches/cache.hpp"

#include "framework/error.hpp"

namespace trikv {

void Cache::append(const float* k1, const float* k2, const float* v1, const float* v2) {
    append_token(k1, k2, v1, v2);
    ++tokens_;
}

void Cache::attend(const float* q, float* out) {
    require(tokens_ > 0, "attend: the cache '" + spec() + "' is empty; append a token first");
    transient_.reset_peak();
    attend_query(q, out);
    last_transient_peak_ = transient_.peak() - transient_.current();
}

void Cache::clear() {
    clear_storage();
    tokens_ = 0;
}

}  // namespace trikv
