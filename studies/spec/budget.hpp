#pragma once
// A study's `budget` key (docs/studies.md): "25%" (of the exact factor cache's resident bytes at
// the point's n, d, heads and kv_heads), a byte count, or a list of them, each a point
// dimension. Every approximate cache of the study is then configured, per point and budget, to
// its type's most accurate setting that fits (caches/budget.hpp: the rule lives with each type);
// exact caches are the reference and are measured once, without a budget.
#include <string>
#include <vector>

#include "studies/spec/study_spec.hpp"

namespace trikv {

// `points` with each approximate one replaced by one point per budget: its cache the fitted
// setting, its `budget` the text. A budget no setting fits keeps the spec as given and sets
// `unfit` (the point is skipped with that reason). Points whose resolved configurations are
// equal (a grid of windows fitted to one budget) are kept once. No budgets: `points` as they are.
std::vector<StudyPoint> fit_budgets(const std::vector<std::string>& budgets, std::vector<StudyPoint> points);

}  // namespace trikv
