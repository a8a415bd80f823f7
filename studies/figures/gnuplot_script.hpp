#pragma once
// The gnuplot side of a figure NAME: the generated NAME.gp holds only what depends on the data
// (title, series, axis titles, flags) and then loads the figure's template, which loads the
// shared style trikv.gp. Style and templates live in studies/figures/gnuplot/ and are copied into the
// figures directory's gnuplot/ folder, so that a study directory redraws on its own.
#include <filesystem>
#include <string>
#include <vector>

#include "studies/figures/series.hpp"

namespace trikv {

class GnuplotScript {
public:
    // `name` is the figure (NAME.gp), `template_name` its template in studies/figures/gnuplot/, `data`
    // the csv it reads (beside it); TITLE, SUBTITLE and the series' LABEL, COLOUR, POINT and
    // DASH arrays, one entry per series, are what every figure states.
    GnuplotScript(std::string name, std::string template_name, std::string data, const std::string& title,
                  const std::string& subtitle, const std::vector<Series>& series);
    const std::string& name() const { return name_; }
    const std::string& template_name() const { return template_; }
    const std::string& data() const { return data_; }

    // NAME = 'text' (with a LaTeX spelling for fmt = 'tex' where the text needs one).
    void text(const std::string& variable, const std::string& value);
    void number(const std::string& variable, double value);
    void numbers(const std::string& variable, const std::vector<double>& values);
    void texts(const std::string& variable, const std::vector<std::string>& values);
    std::string str() const;  // the whole script

private:
    // `variable` = [format(value), ...]: every array the script holds.
    template <class Value, class Format>
    void array(const std::string& variable, const std::vector<Value>& values, Format format);
    std::string name_, template_, data_, header_, body_;
};

// A figure to draw: its script and its data (empty: the script draws another figure's csv).
struct Figure {
    GnuplotScript script;
    std::string csv;
};

// Writes the figure's data file (unless empty), NAME.gp, and copies of the style and the
// template into dir/gnuplot/; renders it into every format (png, pdf, svg, tex: TikZ) when
// `render`. Returns the files written; a rendering that outgrows a page or cannot fit its key
// (the style's judgement, trikv.gp) adds a line to `warnings`. A gnuplot failure throws
// trikv::Error naming the figure, the file and gnuplot's error line; nothing half-written is left.
std::vector<std::filesystem::path> write_figure(const std::filesystem::path& dir, const Figure& figure, bool render,
                                                std::vector<std::string>& warnings);
bool gnuplot_on_path();
// The folder holding trikv.gp and the templates: the installed copy beside the running libtrikv
// (<libdir>/../share/trikv/gnuplot, wherever the install was put), else the source tree's
// studies/figures/gnuplot/ (its absolute path fixed at configure time), else the configured install's.
std::filesystem::path gnuplot_style_dir();

}  // namespace trikv
