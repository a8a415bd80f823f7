#pragma once
// Paper figures of a study (docs/studies.md, Figures, describes each). A figure NAME is its data
// NAME.csv and a generated NAME.gp holding only what depends on the data (title, configuration,
// series labels and styles), which loads the figure's template and the shared style from
// studies/figures/gnuplot/ (copied into DIR/gnuplot/), and its renderings NAME.png, .pdf, .svg and .tex
// (TikZ). gnuplot lays out ticks and keys; `gnuplot -e "fmt='pdf'" NAME.gp` redraws from any
// directory without rerunning the study. Rows whose status is not ok, or without a positive
// time and memory, are not drawn; var rows draw var-scaling (per scale step) and var-pareto,
// var-error, var-sparsity (per whole generation). A figure without the rows it needs is left
// out with a note.
#include <filesystem>
#include <string>
#include <vector>

#include "studies/results/results.hpp"

namespace trikv {

struct FigureReport {
    std::vector<std::filesystem::path> files;  // every file written, in order
    std::vector<std::string> notes;            // figures not drawn, gnuplot missing, rows left out
    // A rendering whose key or subtitle may be cut or that outgrows a page (also in notes).
    std::vector<std::string> warnings;
};

// The figure names write_figures understands: pareto, scaling, error (also error-n), sparsity,
// theory (theory-bound, theory-cost, theory-front, theory-subgen).
const std::vector<std::string>& figure_names();

// Draws the figures named in `which` (a subset of figure_names(); unknown names throw
// trikv::Error) into `dir`, created if missing. Every file is written atomically. Without
// gnuplot on PATH only the .csv and .gp files are written and a note says so; a gnuplot failure
// throws trikv::Error naming the figure, the file and gnuplot's error line.
FigureReport write_figures(const std::filesystem::path& dir, const std::vector<ResultRow>& rows,
                           const std::vector<std::string>& which);

}  // namespace trikv
