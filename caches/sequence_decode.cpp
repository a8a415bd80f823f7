#include "caches/sequence_decode.hpp"

#include <algorithm>
#include <vector>

namespace trikv {

void decode_sequence(Cache& cache, std::size_t n, const float* q, const float* k1, const float* k2,
                     const float* v1, const float* v2, float* out) {
    const std::size_t h = cache.shape().heads, kv = cache.shape().kv_heads, d = cache.shape().dim;
    const float* sources[5] = {q, k1, k2, v1, v2};
    // Token t: q's h rows, then each key/value input's kv rows.
    std::vector<float> token((h + 4 * kv) * d), result(h * d);
    const auto rows_of = [&](std::size_t s) { return s == 0 ? h : kv; };
    const auto start_of = [&](std::size_t s) { return s == 0 ? 0 : (h + (s - 1) * kv) * d; };
    for (std::size_t t = 0; t < n; ++t) {
        for (std::size_t s = 0; s < 5; ++s)
            for (std::size_t head = 0; head < rows_of(s); ++head)
                std::copy_n(sources[s] + (head * n + t) * d, d, token.data() + start_of(s) + head * d);
        cache.append(1, &token[start_of(1)], &token[start_of(2)], &token[start_of(3)], &token[start_of(4)]);
        cache.attend(1, &token[0], result.data());
        for (std::size_t head = 0; head < h; ++head)
            std::copy_n(result.data() + head * d, d, out + (head * n + t) * d);
    }
}

}  // namespace trikv
