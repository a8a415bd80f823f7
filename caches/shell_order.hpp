#pragma once
// The shell order of a growing square of pairs (i, j): shell m holds the pairs with
// max(i, j) = m — first (m, 0..m), then (0..m−1, m) — so the square of t+1 tokens is the first
// (t+1)² positions and appending token t only appends shell t. `product` stores its pair rows
// in this order, `hybrid` its window's pair rows (by ring slot), `pair-logits` its logits.
#include <algorithm>
#include <cstddef>

namespace trikv {

// Position of the pair (i, j) in shell order.
inline std::size_t shell_index(std::size_t i, std::size_t j) {
    const std::size_t m = std::max(i, j);
    return m * m + (i == m ? j : m + 1 + i);
}

}  // namespace trikv
