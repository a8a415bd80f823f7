#include "caches/sequence_decode.hpp"

#include <algorithm>
#include <vector>

namespace trikv {

void decode_sequence(Cache& cache, std::size_t n, const float* q, const float* k1, const float* k2,
                     const float* v1, const float* v2, float* out) {
    const std::size_t h = cache.shape().heads, d = cache.shape().dim;
    const float* sources[5] = {q, k1, k2, v1, v2};
    std::vector<float> token(5 * h * d), result(h * d);
    for (std::size_t t = 0; t < n; ++t) {
        for (std::size_t s = 0; s < 5; ++s)
            for (std::size_t head = 0; head < h; ++head)
                std::copy_n(sources[s] + (head * n + t) * d, d, token.data() + (s * h + head) * d);
        cache.append(1, &token[1 * h * d], &token[2 * h * d], &token[3 * h * d], &token[4 * h * d]);
        cache.attend(1, &token[0], result.data());
        for (std::size_t head = 0; head < h; ++head)
            std::copy_n(result.data() + head * d, d, out + (head * n + t) * d);
    }
}

}  // namespace trikv
