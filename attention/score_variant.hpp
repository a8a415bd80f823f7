#pragma once
// The score of a pair (j, k) for a query q, in the three forms of 2-simplicial attention
// (docs/math.md §9). Every form is multiplied by the scale afterwards.
//   trilinear  ⟨q, k1_j ∘ k2_k⟩                               (tensor attention, docs/math.md §2)
//   rank1      ⟨q, k1_j⟩ + ⟨q, k2_k⟩                           (the softmax factorises: O(nd) exact)
//   strassen   ⟨q, k1_j⟩ + ⟨q, k2_k⟩ + ⟨k1_j, k2_k⟩            (the pair term does not depend on q)
#include <string>
#include <vector>

namespace trikv {

enum class ScoreVariant { trilinear, rank1, strassen };

std::string variant_name(ScoreVariant variant);
// Every variant's name, in enum order, for option choices and error messages.
std::vector<std::string> variant_names();
// "rank1" → ScoreVariant::rank1; anything else throws trikv::Error naming `field` and the value.
ScoreVariant parse_variant(const std::string& name, const std::string& field);

}  // namespace trikv
