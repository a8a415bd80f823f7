#pragma once
// The figures of docs/theory.md (figure name "theory"), drawn from a study's decode rows:
//   theory-bound   poly's relative error vs the score magnitude B (score_bound), a colour per
//                  degree, the Taylor remainder e^B·B^(p+1)/(p+1)! dashed in the same colour,
//                  a marker shape per n;
//   theory-cost    time and memory vs n of every cache at one configuration (gaussian data and
//                  scale 1/d where the study has them, its largest d), with lines of slope n·d
//                  and n²·d beside the time and the seed paper's Ω(nd) and Ω(n²d) memory bounds;
//   theory-front   relative error vs memory at the largest n and d, a panel per data (columns)
//                  and scale (rows), the (memory, error) Pareto front of each panel joined
//                  (errors up to the panel's exact caches' float32 rounding count as 0);
//   theory-subgen  SubGen's error in the units of its guarantee (subgen_normalised_error) vs
//                  its value budget at the largest n and d, with an O(1/√values) line.
// A figure without the rows it needs is left out with a note.
#include <string>
#include <vector>

#include "studies/figures/gnuplot_script.hpp"
#include "studies/figures/series.hpp"

namespace trikv {

std::vector<Figure> theory_figures(const SeriesSet& set, std::vector<std::string>& notes);

}  // namespace trikv
