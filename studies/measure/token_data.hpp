#pragma once
// The tokens a study feeds its caches: q, k1, k2, v1, v2 as [heads, tokens, d] float64 (the
// exact computation reads them directly; caches receive them rounded to float32).
#include <cstdint>

#include "framework/tensor.hpp"
#include "studies/spec/study_spec.hpp"

namespace trikv {

struct TokenData {
    Heads<double> q, k1, k2, v1, v2;
    std::size_t tokens() const { return q.shape(1); }
};

// gaussian: every entry N(0, 1).
// clustered (SubGen's premise, docs/math.md §6): each key stream has `clusters` centres with N(0, 1)
//   entries (‖c‖ ≈ √d); a key is a uniformly chosen centre plus a point uniform in the ball of
//   radius δ·√d around it, so δ is the radius relative to the centres' norm; q, v are N(0, 1).
// sparse (sparsity priors, docs/math.md §7): q is N(0, 1); every row of k1, k2, v1, v2 has exactly
//   s = data.nonzeros non-zero entries (1 ≤ s ≤ d), each N(0, 1) (redrawn in the
//   measure-zero case it is exactly 0), at coordinates chosen per row by data.support:
//     random  s distinct coordinates, uniformly (a partial Fisher–Yates shuffle);
//     blocks  the s contiguous coordinates [b·s, b·s + s), b uniform in [0, ⌊d/s⌋): blocks
//             are aligned to multiples of s, and when s does not divide d the last d mod s
//             coordinates are never used.
//   After q, the streams are drawn k1, k2, v1, v2, each head by head and token by token.
// gaussian, clustered, sparse: data.k2_mean and data.v2_mean are then added to every k2 and v2
//   entry (a model's bias, docs/model.md); npy and trace data are read as they are.
// npy: the first `tokens` tokens of data.dir/{q,k1,k2,v1,v2}.npy ([N,d] or [h,N,d]).
// trace: the same from data.arrays_dir(), data.dir/layer{L}/head{H}, a one-head [N, d] each.
// npy and trace: reads data.arrays_dir()'s five arrays and fills data.digest (FNV-1a of each
// array's dtype, shape and values, in the order q k1 k2 v1 v2) and data.tokens (the fewest
// tokens any holds). A trace selection without those files is a one-line error naming it.
void inspect_npy_data(DataSpec& data);

TokenData make_token_data(const DataSpec& data, std::size_t heads, std::size_t tokens, std::size_t d,
                          std::uint64_t seed);

// A study point's first `tokens` tokens: q with the point's heads, keys and values with the
// first kv_heads of theirs (what its cache is fed; generated data depends on `tokens`, so the
// measurement and the budget's count ask for the same number).
TokenData point_tokens(const StudyPoint& point, std::size_t tokens);

// Tokens [first, first + count) of every head, as the [count, heads, d] float rows a cache
// takes (one token: [heads, d]).
void gather(const Heads<double>& x, std::size_t first, std::size_t count, std::vector<float>& out);

}  // namespace trikv
