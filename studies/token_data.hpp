#pragma once
// The tokens a study feeds its caches: q, k1, k2, v1, v2 as [heads, tokens, d] float64 (the
// exact computation reads them directly; caches receive them rounded to float32).
#include <cstdint>

#include "framework/tensor.hpp"
#include "studies/study_spec.hpp"

namespace trikv {

struct TokenData {
    Heads<double> q, k1, k2, v1, v2;
    std::size_t tokens() const { return q.shape(1); }
};

// gaussian: every entry N(0, 1).
// clustered (SubGen's premise, SPEC §6): each key stream has `clusters` centres with N(0, 1)
//   entries (‖c‖ ≈ √d); a key is a uniformly chosen centre plus a point uniform in the ball of
//   radius δ·√d around it, so δ is the radius relative to the centres' norm; q, v are N(0, 1).
// npy: the first `tokens` tokens of data.dir/{q,k1,k2,v1,v2}.npy ([N,d] or [h,N,d]).
TokenData make_token_data(const DataSpec& data, std::size_t heads, std::size_t tokens, std::size_t d,
                          std::uint64_t seed);

}  // namespace trikv
