#pragma once
// Paper figures of a study (docs/studies.md, Figures). Each figure NAME is its data NAME.csv,
// a generated NAME.gp holding only what depends on the data (title, configuration, series
// labels and styles), which loads the figure's template and the shared style from
// studies/gnuplot/ (copied into DIR/gnuplot/), and the renderings NAME.png, .pdf, .svg and .tex
// (TikZ). gnuplot lays out ticks and keys; `gnuplot -e "fmt='pdf'" NAME.gp` redraws from any
// directory without rerunning the study.
//
// Figures (rows whose status is not ok, or without a positive time and memory, are not drawn):
//   pareto    time per step vs resident memory with the exact fronts of pareto_fronts, the
//             approximate points labelled with n, the seed paper's memory bounds.
//   scaling   time and memory vs n, fitted log-log slopes in the key.
//   error     error vs memory (error) and vs n (error-n) of the approximate caches; not drawn,
//             with a note, when no approximate cache has a positive error.
//   sparsity  time and memory vs the non-zeros per row s at the largest n of sparse data; not
//             drawn, with a note, without two or more values of s.
//   theory    theory-bound, theory-cost, theory-front, theory-subgen: what docs/theory.md
//             measures (studies/figures/theory_figures.hpp).
// var rows draw var-scaling (per scale step) and var-pareto, var-error, var-sparsity (per
// whole generation).
#include <filesystem>
#include <string>
#include <vector>

#include "studies/results.hpp"

namespace trikv {

struct FigureReport {
    std::vector<std::filesystem::path> files;  // every file written, in order
    std::vector<std::string> notes;            // figures not drawn, gnuplot missing, rows left out
};

// The figure names write_figures understands: pareto, scaling, error, sparsity, theory.
const std::vector<std::string>& figure_names();

// Draws the figures named in `which` (a subset of figure_names(); unknown names throw
// trikv::Error) into `dir`, created if missing. Every file is written atomically. Without
// gnuplot on PATH only the .csv and .gp files are written and a note says so; a gnuplot failure
// throws trikv::Error naming the figure, the file and gnuplot's error line.
FigureReport write_figures(const std::filesystem::path& dir, const std::vector<ResultRow>& rows,
                           const std::vector<std::string>& which);

}  // namespace trikv
