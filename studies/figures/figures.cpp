#include "studies/figures/figures.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <tuple>
#include <map>
#include <set>

#include "framework/error.hpp"
#include "studies/figures/aggregate.hpp"
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
// `trikv prefill`'s rows: every query of n tokens at once, beside the keys and values it reads.
const Labels kPrefillLabels{"prefill-", "time per prefill [ms]", "key and value memory [bytes]",
                            "sequence length n [tokens]", "time per prefill"};

// A script with what every figure states: title, configuration, axis titles and the series.
GnuplotScript begin_script(const std::string& figure, const std::string& data, const std::string& title,
                           const Labels& labels, const std::vector<ResultRow>& rows, const std::vector<Series>& series) {
    GnuplotScript script(labels.prefix + figure, figure, labels.prefix + data, title, configuration_text(rows), series);
    script.text("TIME_LABEL", labels.time);
    script.text("MEMORY_LABEL", labels.memory);
    script.text("N_LABEL", labels.tokens);
    return script;
}

// Slopes need this many distinct x: two points always lie on a line.
constexpr std::size_t kMinSlopePoints = 3;
// pareto and error draw a row of panels for at most this many n (the smallest and largest).
constexpr std::size_t kMaxPanelRows = 2;

// " (slopes 2.01, 1.00)": least-squares slopes of log time and log memory in log x over the
// points (x, time, bytes); nothing with fewer than kMinSlopePoints distinct x.
std::string slopes_text(const std::vector<std::array<double, 3>>& points) {
    std::set<double> distinct_x;
    double mx = 0, mt = 0, mb = 0, sxx = 0, sxt = 0, sxb = 0;
    const double count = double(points.size());
    for (const auto& [x, t, b] : points) {
        distinct_x.insert(x);
        mx += std::log(x) / count, mt += std::log(t) / count, mb += std::log(b) / count;
    }
    if (distinct_x.size() < kMinSlopePoints) return "";
    for (const auto& [x, t, b] : points) {
        const double dx = std::log(x) - mx;
        sxx += dx * dx, sxt += dx * (std::log(t) - mt), sxb += dx * (std::log(b) - mb);
    }
    char text[64];
    std::snprintf(text, sizeof text, " (slopes %.2f, %.2f)", sxt / sxx, sxb / sxx);
    return text;
}

std::string slopes_text(const SeriesSet& set, const Series& series, double (*x)(const ResultRow&)) {
    std::vector<std::array<double, 3>> points;
    for (std::size_t i : series.rows) points.push_back({x(set.rows[i]), set.rows[i].step_ms_median, set.rows[i].bytes});
    return slopes_text(points);
}

// ─── The panelled figures: a panel per data family (and for pareto and error per n) ───
// Their data: a line per aggregated point, the figure's `panel` and `class` for it, and whether
// it is on its panel's front (front points first, each panel's by memory, so that each front
// is one line).
std::string points_csv(const Aggregated& agg, const std::vector<std::size_t>& panel, const std::vector<int>& cls,
                       const std::vector<bool>& front) {
    std::string csv = csv_line({"series", "data", "panel", "class", "front", "n", "d", "heads", "instances", "bytes",
                                "step_ms", "step_ms_low", "step_ms_high", "error", "error_low", "error_high", "label"});
    std::vector<std::size_t> order(agg.points.size());
    std::iota(order.begin(), order.end(), 0);
    std::ranges::stable_sort(order, {}, [&](std::size_t i) {
        return std::tuple(!front[i], front[i] ? panel[i] : 0, front[i] ? agg.points[i].bytes : 0.0);
    });
    for (std::size_t i : order) {
        const AggregatePoint& p = agg.points[i];
        csv += csv_line({std::to_string(p.series + 1), std::to_string(p.data + 1), std::to_string(panel[i]),
                         std::to_string(cls[i]), front[i] ? "1" : "0", std::to_string(p.n), std::to_string(p.d),
                         std::to_string(p.heads), std::to_string(p.instances), shortest_text(p.bytes),
                         shortest_text(p.step_ms), shortest_text(p.step_ms_low), shortest_text(p.step_ms_high),
                         shortest_text(p.error), shortest_text(p.error_low), shortest_text(p.error_high),
                         agg.set.series[p.series].label});
    }
    return csv;
}

// The panels of a data family × n grid (pareto, error): columns by data, rows by n; a point at an
// n without a row is in panel 0 (not drawn), and a note says where those n are.
struct Grid {
    std::vector<std::size_t> panel;  // per point, 1-based
    std::vector<std::string> titles;
    std::size_t columns = 0, rows = 0;
};

Grid data_n_grid(const Aggregated& agg, const std::string& figure, std::vector<std::string>& notes) {
    std::vector<std::size_t> ns;
    for (const AggregatePoint& p : agg.points) ns.push_back(p.n);
    std::ranges::sort(ns);
    ns.erase(std::unique(ns.begin(), ns.end()), ns.end());
    const std::vector<std::size_t> shown = spread_pick(ns, kMaxPanelRows);
    if (shown.size() < ns.size()) {
        std::string list;
        for (std::size_t n : shown) list += (list.empty() ? "" : ", ") + std::to_string(n);
        notes.push_back(figure + " figure: panels at n = " + list + "; the other n are in results.csv and the scaling figure");
    }
    Grid grid{.panel = {}, .titles = {}, .columns = agg.data.size(), .rows = shown.size()};
    for (std::size_t n : shown)
        for (const std::string& data : agg.data) grid.titles.push_back(data + ", n = " + std::to_string(n));
    for (const AggregatePoint& p : agg.points) {
        const auto row = std::size_t(std::ranges::find(shown, p.n) - shown.begin());
        grid.panel.push_back(row < shown.size() ? row * grid.columns + p.data + 1 : 0);
    }
    return grid;
}

// Per point, whether it is on the lower-left front of `x`, `y` among the points of its panel
// that `member` admits.
template <class Member>
std::vector<bool> panel_fronts(const Aggregated& agg, const std::vector<std::size_t>& panel, Member member,
                               double AggregatePoint::*x, double AggregatePoint::*y) {
    std::vector<bool> front(agg.points.size(), false);
    for (std::size_t k = 1; k <= *std::max_element(panel.begin(), panel.end()); ++k) {
        std::vector<std::size_t> in;
        for (std::size_t i = 0; i < agg.points.size(); ++i)
            if (panel[i] == k && member(i)) in.push_back(i);
        const std::vector<bool> on = lower_left_front(agg.points, in, x, y);
        for (std::size_t j = 0; j < in.size(); ++j) front[in[j]] = on[j];
    }
    return front;
}

// A script for a panelled figure: its panels' titles, and what a data panel aggregates.
GnuplotScript panelled_script(const std::string& figure, const std::string& data, const std::string& title,
                              const Labels& labels, const Aggregated& agg, const std::vector<Series>& series,
                              const std::vector<std::string>& panel_titles) {
    GnuplotScript script = begin_script(figure, data, title, labels, agg.set.rows, series);
    script.texts("PANEL_TITLE", panel_titles);
    const bool aggregated = std::ranges::any_of(agg.points, [](const AggregatePoint& p) { return p.instances > 1; });
    script.text("SPREAD_LABEL", aggregated ? "median of heads, layers, seeds, with their range" : "");
    script.text("ERROR_METRIC", metric_name(agg.metric));
    return script;
}

// The distinct n of the points, ascending: the n axis's tick labels.
std::vector<double> measured_ns(const Aggregated& agg) {
    std::set<double> ns;
    for (const AggregatePoint& p : agg.points) ns.insert(double(p.n));
    return {ns.begin(), ns.end()};
}

bool is_matrix(const Aggregated& agg, const AggregatePoint& p) {
    return agg.set.series[p.series].type == "matrix";
}

// ─── pareto: time vs memory per data and n, each panel's exact front joined ───
// class: 0 exact, 1 a dominated exact point (faded), 2 approximate, 3 the matrix baseline
// (beside the fronts, never on them).
std::vector<Figure> pareto_figure(const SeriesSet& all, const Labels& labels, std::vector<std::string>& notes) {
    const Aggregated agg = aggregate(all.rows);
    const Grid grid = data_n_grid(agg, labels.prefix + "pareto", notes);
    const auto exact = [&](std::size_t i) {
        return agg.set.series[agg.points[i].series].exact && !is_matrix(agg, agg.points[i]);
    };
    const std::vector<bool> front = panel_fronts(agg, grid.panel, exact, &AggregatePoint::bytes, &AggregatePoint::step_ms);
    std::vector<int> cls;
    bool dominated = false;
    for (std::size_t i = 0; i < agg.points.size(); ++i) {
        cls.push_back(is_matrix(agg, agg.points[i]) ? 3 : !exact(i) ? 2 : front[i] ? 0 : 1);
        dominated = dominated || (cls.back() == 1 && grid.panel[i] > 0);
    }
    GnuplotScript script = panelled_script("pareto", "pareto.csv", labels.time_words + " vs resident cache memory",
                                           labels, agg, agg.set.series, grid.titles);
    script.number("COLUMNS", double(grid.columns));
    script.number("ROWS", double(grid.rows));
    script.number("HAS_DOMINATED", dominated);
    return {{script, points_csv(agg, grid.panel, cls, front)}};
}

// ─── scaling: time and memory vs n, a row of panels per data ───
std::vector<Figure> scaling_figure(const SeriesSet& all, const Labels& labels, std::vector<std::string>&) {
    const Aggregated agg = aggregate(all.rows);
    std::vector<Series> keyed = agg.set.series;
    std::set<std::size_t> fitted;  // the n of the series given slopes
    for (std::size_t s = 0; s < keyed.size(); ++s) {
        std::vector<std::array<double, 3>> points;
        for (const AggregatePoint& p : agg.points)
            if (p.series == s) points.push_back({double(p.n), p.step_ms, p.bytes});
        const std::string slopes = slopes_text(points);
        keyed[s].label += slopes;
        if (!slopes.empty())
            for (const auto& point : points) fitted.insert(std::size_t(point[0]));
    }
    std::vector<std::size_t> panel;
    for (const AggregatePoint& p : agg.points) panel.push_back(p.data + 1);
    GnuplotScript script = panelled_script("scaling", "scaling.csv", labels.time_words + " and resident memory vs tokens",
                                           labels, agg, keyed, agg.data);
    script.text("SLOPES_TITLE", fitted.empty() ? "" : "(slopes of log time, log memory in log n, fitted over n = " +
                                                          std::to_string(*fitted.begin()) + "–" +
                                                          std::to_string(*fitted.rbegin()) + ")");
    script.numbers("NVALUES", measured_ns(agg));
    return {{script, points_csv(agg, panel, std::vector<int>(agg.points.size(), 0),
                                std::vector<bool>(agg.points.size(), false))}};
}

// ─── error: error vs memory per data and n (the approximate front joined, the exact caches as
// reference points), and error vs n per data ───
// class: 0 approximate, 1 exact (a reference point).
std::vector<Figure> error_figures(const SeriesSet& all, const Labels& labels, std::vector<std::string>& notes) {
    if (std::none_of(all.rows.begin(), all.rows.end(), [](const ResultRow& r) {
            return !r.exact && (r.rel_l2_error > 0 || r.rel_error_max > 0);
        })) {
        notes.push_back("no " + labels.prefix + "error figures: no approximate cache (exact = 0) has an error > 0");
        return {};
    }
    const Aggregated agg = aggregate(all.rows);
    const Grid grid = data_n_grid(agg, labels.prefix + "error", notes);
    const auto approximate = [&](std::size_t i) { return !agg.set.series[agg.points[i].series].exact; };
    const std::vector<bool> front = panel_fronts(agg, grid.panel, approximate, &AggregatePoint::bytes, &AggregatePoint::error);
    std::vector<int> cls;
    for (std::size_t i = 0; i < agg.points.size(); ++i) cls.push_back(approximate(i) ? 0 : 1);
    GnuplotScript bytes = panelled_script("error", "error.csv", "error vs resident cache memory", labels, agg,
                                          agg.set.series, grid.titles);
    bytes.number("COLUMNS", double(grid.columns));
    bytes.number("ROWS", double(grid.rows));
    std::vector<Figure> figures = {{bytes, points_csv(agg, grid.panel, cls, front)}};
    const std::vector<double> ns = measured_ns(agg);
    if (ns.size() < 2) return figures;  // one n: no error-n figure
    // error-n: the approximate series only, a panel per data.
    std::vector<Series> approximate_series;
    std::vector<std::size_t> panel;
    for (const AggregatePoint& p : agg.points) panel.push_back(agg.set.series[p.series].exact ? 0 : p.data + 1);
    for (const Series& s : agg.set.series) approximate_series.push_back(s.exact ? Series{} : s);
    GnuplotScript by_n = panelled_script("error-n", "error-n.csv", "error of the approximate caches vs tokens", labels,
                                         agg, approximate_series, agg.data);
    by_n.numbers("NVALUES", ns);
    figures.push_back({by_n, points_csv(agg, panel, cls, std::vector<bool>(agg.points.size(), false))});
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
                                                                     shortest_text(r.step_ms_median), shortest_text(r.bytes),
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
            csv += csv_line({"reference", std::to_string(s + 1), "", "", std::to_string(n), shortest_text(median),
                             shortest_text(first.bytes), first.cache, set.series[s].label});
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
                               {kVarGenerationLabels, {}, {"pareto", "error", "sparsity"}},
                               {kPrefillLabels, {}, {"pareto", "scaling"}}};
    for (const ResultRow& row : rows)
        parts[row.workload == Workload::prefill ? 3 : row.workload != Workload::var ? 0 : row.scale > 0 ? 1 : 2]
            .rows.push_back(row);
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
                const std::vector<fs::path> files = write_figure(dir, figure, gnuplot, report.warnings);
                report.files.insert(report.files.end(), files.begin(), files.end());
                if (!gnuplot) unrendered += (unrendered.empty() ? "" : ", ") + figure.script.name();
            }
        }
    }
    if (!unrendered.empty())
        report.notes.push_back("gnuplot is not on PATH: wrote only the .csv and .gp files of " + unrendered +
                               "; to draw them, run e.g. `gnuplot -e \"fmt='pdf'\" NAME.gp` in " + dir.string());
    for (const std::string& warning : report.warnings) report.notes.push_back(warning);
    return report;
}

}  // namespace trikv
