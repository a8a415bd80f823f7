#pragma once
// Token-by-token decode of whole sequences through a cache, as `trikv attend` and Python's
// trikv.attend do it: for t = 0..n−1, append token t, then out[t] = attend(q[t]).
#include <cstddef>

#include "caches/cache.hpp"

namespace trikv {

// q and out are head-major [heads, n, dim], k1, k2, v1, v2 [kv_heads, n, dim] (the layout of
// .npy inputs); the cache takes token-major [heads, dim] and [kv_heads, dim] rows, so each
// token is gathered first. The cache's shape gives heads, kv_heads and dim.
void decode_sequence(Cache& cache, std::size_t n, const float* q, const float* k1, const float* k2,
                     const float* v1, const float* v2, float* out);

}  // namespace trikv
