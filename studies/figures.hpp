#pragma once
// Paper figures of a study. Each figure NAME is two source files and four renderings:
//   NAME.csv  exactly the data drawn (one row per point, reference line or label),
//   NAME.gp   a gnuplot script reading NAME.csv. Its output format and every size and font are
//             variables, so a figure is restyled and redrawn without rerunning the study, from
//             any directory:  gnuplot -e "fmt='pdf'" NAME.gp   (fmt: png | pdf | svg | tex;
//             e.g. also FONT=8, W=3.3, out='x.pdf'),
//   NAME.png (300 dpi), NAME.pdf, NAME.svg, NAME.tex (gnuplot's tikz terminal, for \input).
// Sized for a paper: 3.5 in wide per panel, 7 pt text, 6 pt key below the plot (the figure grows
// with the key, the plot area does not), Helvetica (tikz: the document's font).
//
// Figures (rows whose status is not ok, or without a positive time and memory, are not drawn):
//   pareto   time per decode step vs resident cache memory, log-log. The exact (time, memory)
//            Pareto front of each (workload, n, d, heads) group (rows with rel_l2_error ≤
//            kExactTolerance) drawn solid, joined and labelled ("n=512"); other points faded.
//            The seed paper's bounds 4·n·d·heads·4 B (Ω(nd)) and 2·n²·d·heads·4 B (Ω(n²d)) as
//            vertical lines for each group's n, d, heads.
//   scaling  two panels: time per step vs n and memory vs n, log-log, one series per cache spec
//            (and d, heads, ... where those vary), with the least-squares log-log slope in the
//            key when the series has two or more n.
//   error    relative L2 error vs memory of the approximate caches (exact == false), exact ones
//            faded for context, zero errors on a marked floor; skipped, with a note, when no
//            approximate cache has a positive error.
//   sparsity two panels: time per step and resident memory vs the non-zeros s per key/value row,
//            log-log, at the largest n of the rows holding sparse data (the data label
//            "sparse(s=8,support=random)"); one series per cache spec and support, with its
//            least-squares slope in s. A cache whose memory is the same at every s (a dense
//            layout) is one flat dashed reference at its memory and median time, its points
//            faded. Skipped, with a note, without sparse rows at two or more values of s.
// Each key is a plot of its own below its panel, as tall as its rows, so a long key never
// wraps past the figure's edge or into the next panel's key.
// A cache type keeps one colour and marker shape in every figure and study (a fixed table, a
// hashed fallback for unknown types); the specs of one type differ by marker fill, then shape
// step and line dash.
#include <filesystem>
#include <string>
#include <vector>

#include "studies/results.hpp"

namespace trikv {

struct FigureReport {
    std::vector<std::filesystem::path> files;  // every file written, in order
    std::vector<std::string> notes;            // figures skipped, gnuplot missing, rows not drawn
};

// The figure names write_figures understands: pareto, scaling, error, sparsity.
const std::vector<std::string>& figure_names();

// Draws the figures named in `which` (a subset of figure_names(); unknown names throw
// trikv::Error) into `dir`, created if missing. Every file is written atomically. Without
// gnuplot on PATH only the .csv and .gp files are written and a note says so; a gnuplot failure
// throws trikv::Error naming the figure, the file and gnuplot's error line.
FigureReport write_figures(const std::filesystem::path& dir, const std::vector<ResultRow>& rows,
                           const std::vector<std::string>& which);

}  // namespace trikv
