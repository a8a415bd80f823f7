#include "studies/figures/figures.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "framework/error.hpp"
#include "studies/figures/gnuplot_script.hpp"
#include "studies/figures/series.hpp"
#include "studies/figures/theory_figures.hpp"
#include "studies/results/pareto.hpp"

namespace trikv {
namespace {

namespace fs = std::filesystem;

// What a study's figures are called and what their axes measure: decode steps, or VAR's
// scale steps (var-scaling) and whole generations (var-pareto, var-error, var-sparsity).
struct Labels {
    std::string prefix, time, memory, tokens, time_words;
};
const Labels kDecodeLabels{"", "time per decode step [ms]", "resident cache memory [bytes]",
                           "context length n [tokens]", "time per decode step"};
const Labels kVarStepLabels{"var-", "time per scale step [ms]", "resident cache memory [bytes]",
                            "tokens after the scale step", "time per VAR scale step"};
const Labels kVarGenerationLabels{"var-", "time per generation [ms]", "peak resident cache memory [bytes]",
                                  "tokens generated", "time per VAR generation"};

// A script with what every figure states: title, configuration, axis titles and the series.
GnuplotScript begin_script(const std::string& figure, const std::string& data, const std::string& title,
                           const Labels& labels, const std::vector<ResultRow>& rows, const std::vector<Series>& series) {
    GnuplotScript script(labels.prefix + figure, figure, labels.prefix + data, title, configuration_text(rows), series);
    script.text("TIME_LABEL", labels.time);
    script.text("MEMORY_LABEL", labels.memory);
    script.text("N_LABEL", labels.tokens);
    return script;
}

// "n=512" beside a point, when the figure shows more than one n.
std::string n_label(const ResultRow& row, const std::vector<ResultRow>& rows) {
    const bool several = std::any_of(rows.begin(), rows.end(), [&](const ResultRow& r) { return r.n != rows.front().n; });
    return several ? "n=" + std::to_string(row.n) : "";
}

// " (slopes 2.01, 1.00)": least-squares slopes of log time and log memory in log x over the
// series' rows; nothing with fewer than two distinct x.
std::string slopes_text(const SeriesSet& set, const Series& series, double (*x)(const ResultRow&)) {
    std::set<double> distinct;
    double mx = 0, mt = 0, mb = 0, sxx = 0, sxt = 0, sxb = 0;
    const double count = double(series.rows.size());
    for (std::size_t i : series.rows) {
        const ResultRow& r = set.rows[i];
        distinct.insert(x(r));
        mx += std::log(x(r)) / count, mt += std::log(r.step_ms_median) / count, mb += std::log(r.bytes) / count;
    }
    if (distinct.size() < 2) return "";
    for (std::size_t i : series.rows) {
        const ResultRow& r = set.rows[i];
        const double dx = std::log(x(r)) - mx;
        sxx += dx * dx, sxt += dx * (std::log(r.step_ms_median) - mt), sxb += dx * (std::log(r.bytes) - mb);
    }
    char text[64];
    std::snprintf(text, sizeof text, " (slopes %.2f, %.2f)", sxt / sxx, sxb / sxx);
    return text;
}

// ─── pareto: time vs memory, the exact fronts of pareto.cpp joined ───
// The `class` column: 0 on the exact front of its group (joined), 1 a dominated exact point
// (faded), 2 approximate, 3 the matrix baseline (beside the fronts, never on them).
std::vector<Figure> pareto_figure(const SeriesSet& set, const Labels& labels, std::vector<std::string>&) {
    std::string csv = csv_line({"series", "group", "class", "n", "d", "heads", "bytes", "step_ms", "rel_l2_error",
                                "n_label", "cache", "label"});
    auto point = [&](std::size_t i, int cls, std::size_t group) {
        const ResultRow& r = set.rows[i];
        return csv_line({std::to_string(set.series_of[i] + 1), std::to_string(group), std::to_string(cls),
                         std::to_string(r.n), std::to_string(r.d), std::to_string(r.heads), number_text(r.bytes),
                         number_text(r.step_ms_median), number_text(r.rel_l2_error),
                         cls == 1 ? "" : n_label(r, set.rows), r.cache, set.series[set.series_of[i]].label});
    };
    std::set<std::size_t> on_front;  // written first, each front by memory: one line per group
    std::size_t groups = 0;
    for (const ParetoPoint& p : pareto_fronts(set.rows))
        if (p.front == "exact") on_front.insert(p.index), groups = p.group, csv += point(p.index, 0, p.group);
    bool dominated = false;
    for (std::size_t i = 0; i < set.rows.size(); ++i) {
        if (on_front.count(i)) continue;
        const int cls = is_matrix_baseline(set.rows[i]) ? 3 : set.rows[i].exact ? 1 : 2;
        dominated = dominated || cls == 1;
        csv += point(i, cls, 0);
    }
    GnuplotScript script = begin_script("pareto", "pareto.csv", labels.time_words + " vs resident cache memory", labels,
                                        set.rows, set.series);
    script.number("NGROUPS", double(groups));
    script.number("HAS_DOMINATED", dominated);
    return {{script, csv}};
}

// ─── scaling: time and memory vs n ───
double n_of(const ResultRow& r) { return double(r.n); }

std::vector<Figure> scaling_figure(const SeriesSet& set, const Labels& labels, std::vector<std::string>&) {
    std::vector<Series> keyed = set.series;
    for (std::size_t s = 0; s < set.series.size(); ++s) keyed[s].label += slopes_text(set, set.series[s], n_of);
    return {{begin_script("scaling", "scaling.csv", labels.time_words + " and resident memory vs tokens", labels,
                          set.rows, keyed),
             scaling_csv(set)}};
}

// ─── error: the approximate caches' error vs memory and vs n ───
std::vector<Figure> error_figures(const SeriesSet& set, const Labels& labels, std::vector<std::string>& notes) {
    if (std::none_of(set.rows.begin(), set.rows.end(), [](const ResultRow& r) { return !r.exact && r.rel_l2_error > 0; })) {
        notes.push_back("no " + labels.prefix + "error figures: no approximate cache (exact = 0) has rel_l2_error > 0");
        return {};
    }
    std::vector<Series> approximate;
    std::vector<std::size_t> key_of(set.series.size(), 0);  // 0: an exact series, drawn grey
    for (std::size_t s = 0; s < set.series.size(); ++s)
        if (!set.series[s].exact) approximate.push_back(set.series[s]), key_of[s] = approximate.size();
    const std::string csv =
        series_csv(set, {"series", "n", "bytes", "rel_l2_error", "n_label", "cache", "label"},
                   [&](std::size_t s, std::size_t i) {
                       const ResultRow& r = set.rows[i];
                       return std::vector<std::string>{std::to_string(key_of[s]), std::to_string(r.n), number_text(r.bytes),
                                                       number_text(r.rel_l2_error), key_of[s] ? n_label(r, set.rows) : "",
                                                       r.cache, set.series[s].label};
                   });
    std::vector<Figure> figures;
    for (const auto& [name, title] : {std::pair<std::string, std::string>{"error", "vs resident memory"}, {"error-n", "vs tokens"}}) {
        if (name == "error-n" && n_label(set.rows.front(), set.rows).empty()) break;  // one n: no error-n figure
        figures.push_back({begin_script(name, "error.csv", "accuracy of the approximate caches " + title, labels,
                                        set.rows, approximate),
                           figures.empty() ? csv : ""});
    }
    return figures;
}

// ─── sparsity: time and memory vs the non-zeros per row, at the largest n ───
double s_of(const ResultRow& r) { return double(sparsity_of(r.data).s); }

std::vector<Figure> sparsity_figure(const SeriesSet& all, const Labels& labels, std::vector<std::string>& notes) {
    const std::string name = labels.prefix + "sparsity";
    std::vector<ResultRow> rows = rows_where(all.rows, s_of);
    if (distinct(rows, s_of).size() < 2) {
        notes.push_back("no " + name + " figure: it needs sparse data (data.kind = \"sparse\") with two or more values "
                               "of data.nonzeros among the ok rows");
        return {};
    }
    const bool several_n = distinct(rows, &ResultRow::n).size() > 1;
    const std::size_t n = keep_largest(rows, &ResultRow::n);
    if (several_n)
        notes.push_back(name + " figure at the largest n = " + std::to_string(n) +
                        "; the other n are in results.csv and the scaling figure");
    std::map<std::string, std::set<double>> bytes_of;  // per cache spec: one value = a dense layout
    for (const ResultRow& r : rows) bytes_of[r.cache].insert(r.bytes);
    auto dense = [&](const ResultRow& r) { return bytes_of[r.cache].size() == 1; };
    const SeriesSet set = group_series(rows, [&](const ResultRow& r) {
        return dense(r) ? " (dense)" : ", " + sparsity_of(r.data).support + " support";
    });

    std::string csv = series_csv(set, {"kind", "series", "s", "support", "n", "step_ms", "bytes", "cache", "label"},
                                 [&](std::size_t s, std::size_t i) {
                                     const ResultRow& r = set.rows[i];
                                     return std::vector<std::string>{"point", std::to_string(s + 1), std::to_string(sparsity_of(r.data).s),
                                                                     sparsity_of(r.data).support, std::to_string(r.n),
                                                                     number_text(r.step_ms_median), number_text(r.bytes),
                                                                     r.cache, set.series[s].label};
                                 });
    std::vector<Series> keyed = set.series;
    std::vector<double> dense_flags;
    for (std::size_t s = 0; s < set.series.size(); ++s) {
        std::vector<double> times;
        for (std::size_t i : set.series[s].rows) times.push_back(set.rows[i].step_ms_median);
        const ResultRow& first = set.rows[set.series[s].rows.front()];
        dense_flags.push_back(dense(first));
        std::sort(times.begin(), times.end());
        const double median = (times[(times.size() - 1) / 2] + times[times.size() / 2]) / 2;
        if (dense(first))
            csv += csv_line({"reference", std::to_string(s + 1), "", "", std::to_string(n), number_text(median),
                             number_text(first.bytes), first.cache, set.series[s].label});
        else
            keyed[s].label += slopes_text(set, set.series[s], s_of);
    }
    GnuplotScript script =
        begin_script("sparsity", "sparsity.csv", labels.time_words + " and resident memory vs non-zeros per row",
                     labels, rows, keyed);
    script.numbers("DENSE", dense_flags);
    script.text("S_LABEL", "non-zeros s per key and value row (" +
                               (labels.prefix.empty() ? "n = " + std::to_string(n) : std::to_string(n) + " tokens") + ")");
    return {{script, csv}};
}

// ─── Drawing ───
using Drawer = std::vector<Figure> (*)(const SeriesSet&, const Labels&, std::vector<std::string>&);
struct FigureKind {
    std::string_view name;
    Drawer draw;
};
constexpr FigureKind kFigures[] = {
    {"pareto", pareto_figure}, {"scaling", scaling_figure}, {"error", error_figures}, {"sparsity", sparsity_figure},
    {"theory", [](const SeriesSet& set, const Labels&, std::vector<std::string>& notes) {
         return theory_figures(set, notes);  // decode figures only: their axes are fixed
     }}};

}  // namespace

const std::vector<std::string>& figure_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> list;
        for (const FigureKind& kind : kFigures) list.emplace_back(kind.name);
        return list;
    }();
    return names;
}

FigureReport write_figures(const fs::path& dir, const std::vector<ResultRow>& rows,
                           const std::vector<std::string>& which) {
    for (const std::string& name : which)
        require(std::ranges::find(figure_names(), name) != figure_names().end(),
                "write_figures: unknown figure '" + name + "' (studies check figures first)");
    if (which.empty()) return {};
    // decode rows draw every figure; var rows split into scale steps (drawn against the tokens
    // so far: var-scaling) and whole generations (the others).
    struct Part {
        Labels labels;
        std::vector<ResultRow> rows;
        std::vector<std::string_view> figures;
    };
    std::vector<Part> parts = {{kDecodeLabels, {}, {"pareto", "scaling", "error", "sparsity", "theory"}},
                               {kVarStepLabels, {}, {"scaling"}},
                               {kVarGenerationLabels, {}, {"pareto", "error", "sparsity"}}};
    for (const ResultRow& row : rows) parts[row.workload != Workload::var ? 0 : row.scale > 0 ? 1 : 2].rows.push_back(row);
    FigureReport report;
    const bool gnuplot = gnuplot_on_path();
    std::string unrendered;
    for (const Part& part : parts) {
        if (part.rows.empty()) continue;
        const SeriesSet set = make_series(part.rows, report.notes);
        for (const FigureKind& kind : kFigures) {  // each once, in this order
            const auto named = [&](const auto& names) { return std::ranges::find(names, kind.name) != names.end(); };
            if (!named(which) || !named(part.figures)) continue;
            if (set.rows.empty()) {
                report.notes.push_back("no " + part.labels.prefix + std::string(kind.name) + " figure: no ok rows");
                continue;
            }
            for (const Figure& figure : kind.draw(set, part.labels, report.notes)) {
                const std::vector<fs::path> files = write_figure(dir, figure, gnuplot);
                report.files.insert(report.files.end(), files.begin(), files.end());
                if (!gnuplot) unrendered += (unrendered.empty() ? "" : ", ") + figure.script.name();
            }
        }
    }
    if (!unrendered.empty())
        report.notes.push_back("gnuplot is not on PATH: wrote only the .csv and .gp files of " + unrendered +
                               "; to draw them, run e.g. `gnuplot -e \"fmt='pdf'\" NAME.gp` in " + dir.string());
    return report;
}

}  // namespace trikv
