#include "studies/figures/theory_figures.hpp"

#include <algorithm>
#include <set>

#include "caches/registry.hpp"
#include "studies/pareto.hpp"

namespace trikv {
namespace {

// One colour per poly degree 1, 2, 3 (Okabe-Ito), its bound line dashed in the same colour.
constexpr unsigned kDegreeColours[] = {0xD55E00, 0x0072B2, 0x009E73};

using Rows = std::vector<ResultRow>;

Rows rows_where(const Rows& rows, bool (*keep)(const ResultRow&)) {
    Rows kept;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(kept), keep);
    return kept;
}

template <class Value>
std::vector<double> distinct_numbers(const Rows& rows, Value value) {
    std::set<double> values;
    for (const ResultRow& r : rows) values.insert(double(value(r)));
    return {values.begin(), values.end()};
}

std::size_t largest_d(const Rows& rows) {
    return std::max_element(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.d < b.d; })->d;
}

std::size_t largest_n(const Rows& rows) {
    return std::max_element(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.n < b.n; })->n;
}

// Copies of `rows` for group_series, which reorders them: each copy's key is its row's index,
// so that original() finds the row it came from.
Rows numbered_copies(const Rows& rows) {
    Rows copies = rows;
    for (std::size_t i = 0; i < copies.size(); ++i) copies[i].key = std::to_string(i);
    return copies;
}
const ResultRow& original(const Rows& rows, const ResultRow& copy) { return rows[std::stoul(copy.key)]; }

// The data of the rows in the study's order: a panel each, 1, 2, ... (column `panel`).
std::vector<std::string> data_panels(const Rows& rows) {
    std::vector<std::string> datas;
    for (const ResultRow& r : rows)
        if (std::find(datas.begin(), datas.end(), r.data) == datas.end()) datas.push_back(r.data);
    return datas;
}
std::size_t panel_of(const std::vector<std::string>& datas, const ResultRow& r) {
    return std::size_t(std::find(datas.begin(), datas.end(), r.data) - datas.begin() + 1);
}

// The script of figure `name` (template `name`.gp, data `name`.csv), titled, with its series.
GnuplotScript theory_script(const std::string& name, const std::string& title, const std::string& subtitle,
                            const std::vector<Series>& series) {
    GnuplotScript script(name, name, name + ".csv", title);
    script.text("TITLE", title);
    script.text("SUBTITLE", subtitle);
    script.series(series);
    return script;
}

// ─── theory-bound: poly's error vs B, beside the Taylor remainder ────────────────────────────

std::vector<Figure> bound_figure(const Rows& all, std::vector<std::string>& notes) {
    const Rows rows = rows_where(all, [](const ResultRow& r) {
        return r.cache_type == "poly" && r.score_bound > 0 && r.rel_l2_error > 0;
    });
    if (rows.empty()) {
        notes.push_back("no theory-bound figure: no poly rows with score_bound and rel_l2_error > 0");
        return {};
    }
    const auto degree = [](const ResultRow& r) { return parse_cache_spec(r.cache).integer("degree"); };
    const std::vector<double> degrees = distinct_numbers(rows, degree);
    const std::vector<double> ns = distinct_numbers(rows, [](const ResultRow& r) { return r.n; });
    std::vector<Series> series;
    for (double p : degrees)
        series.push_back({.label = "poly:degree=" + std::to_string(int(p)), .type = "poly", .exact = false,
                          .colour = kDegreeColours[(std::size_t(p) - 1) % std::size(kDegreeColours)], .rows = {}});
    const std::vector<std::string> datas = data_panels(rows);
    std::string csv =
        csv_line({"panel", "degree", "n", "n_rank", "d", "scale", "data", "score_bound", "rel_l2_error", "cache"});
    for (const ResultRow& r : rows)
        csv += csv_line({std::to_string(panel_of(datas, r)), std::to_string(degree(r)), std::to_string(r.n),
                         std::to_string(std::find(ns.begin(), ns.end(), double(r.n)) - ns.begin() + 1), std::to_string(r.d),
                         number_text(r.attention_scale), r.data, number_text(r.score_bound), number_text(r.rel_l2_error),
                         r.cache});
    GnuplotScript script = theory_script("theory-bound", "polynomial method: error vs score magnitude B",
                                         configuration_text(rows), series);
    script.numbers("DEGREE", degrees);
    script.numbers("NS", ns);
    script.texts("PANEL_TITLE", datas);
    return {{script, csv}};
}

// ─── theory-cost: time and memory vs n against the seed's lines ──────────────────────────────

// The study's configuration the figure is drawn at: the first of `preferred` it has, else the
// first row's.
template <class Text>
std::string chosen(const Rows& rows, Text text, const std::string& preferred) {
    const bool present =
        std::any_of(rows.begin(), rows.end(), [&](const ResultRow& r) { return text(r) == preferred; });
    return present ? preferred : text(rows.front());
}

std::vector<Figure> cost_figure(const Rows& all, std::vector<std::string>& notes) {
    const std::string data = chosen(all, [](const ResultRow& r) { return r.data; }, "gaussian");
    const std::string scale = chosen(all, scale_text, "1/d");
    Rows rows;
    for (const ResultRow& r : all)
        if (r.data == data && scale_text(r) == scale) rows.push_back(r);
    const std::size_t d = largest_d(rows);
    std::erase_if(rows, [&](const ResultRow& r) { return r.d != d; });
    if (distinct_numbers(rows, [](const ResultRow& r) { return r.n; }).size() < 2) {
        notes.push_back("no theory-cost figure: it needs two or more n at d = " + std::to_string(d) + ", " + data +
                        " data, scale " + scale);
        return {};
    }
    const SeriesSet set = group_series(rows, {});
    std::string csv = csv_line({"series", "n", "step_ms", "bytes", "cache", "label"});
    for (std::size_t s = 0; s < set.series.size(); ++s)
        for (std::size_t i : set.series[s].rows)
            csv += csv_line({std::to_string(s + 1), std::to_string(set.rows[i].n),
                             number_text(set.rows[i].step_ms_median), number_text(set.rows[i].bytes),
                             set.rows[i].cache, set.series[s].label});
    GnuplotScript script = theory_script("theory-cost", "time and memory vs tokens against the seed's bounds",
                                         configuration_text(set.rows), set.series);
    script.number("D", double(d));
    script.number("HEADS", double(set.rows.front().heads));
    return {{script, csv}};
}

// ─── theory-front: error vs memory per data and scale ───────────────────────────────────────

// Row i is dominated in its panel: another is no larger and no less accurate, and better in
// one. Errors up to the panel's exact caches' own (their float32 rounding) count as 0, so that
// rounding decides nothing.
bool dominated(const Rows& rows, const std::vector<std::size_t>& panel, std::size_t i) {
    double rounding = 0;
    for (std::size_t j : panel)
        if (counts_as_exact(rows[j])) rounding = std::max(rounding, rows[j].rel_l2_error);
    const auto error = [&](std::size_t j) { return rows[j].rel_l2_error <= rounding ? 0 : rows[j].rel_l2_error; };
    return std::any_of(panel.begin(), panel.end(), [&](std::size_t j) {
        return rows[j].bytes <= rows[i].bytes && error(j) <= error(i) &&
               (rows[j].bytes < rows[i].bytes || error(j) < error(i));
    });
}

std::vector<Figure> front_figure(const Rows& all, std::vector<std::string>& notes) {
    const std::size_t d = largest_d(all);
    Rows rows;
    for (const ResultRow& r : all)
        if (r.d == d && r.rel_l2_error > 0) rows.push_back(r);
    if (rows.empty()) {
        notes.push_back("no theory-front figure: no rows with rel_l2_error > 0 at d = " + std::to_string(d));
        return {};
    }
    const std::size_t n = largest_n(rows);
    std::erase_if(rows, [&](const ResultRow& r) { return r.n != n; });
    const std::vector<std::string> datas = data_panels(rows);  // panel columns; rows by scale
    std::vector<std::string> scales;
    for (const ResultRow& r : rows)
        if (std::find(scales.begin(), scales.end(), scale_text(r)) == scales.end()) scales.push_back(scale_text(r));
    // One series per cache spec in every panel: the panel, not the label, tells data and scale.
    Rows grouped = numbered_copies(rows);
    for (ResultRow& r : grouped) r.data = rows.front().data, r.attention_scale = rows.front().attention_scale;
    const SeriesSet set = group_series(grouped, {});
    std::vector<std::string> titles;
    std::string csv = csv_line({"panel", "class", "series", "bytes", "rel_l2_error", "cache", "label"});
    for (std::size_t y = 0; y < scales.size(); ++y)
        for (std::size_t x = 0; x < datas.size(); ++x) {
            titles.push_back(datas[x] + ", scale " + scales[y]);
            std::vector<std::size_t> panel;  // into set.rows, whose data and scale are in `rows`' order
            for (std::size_t i = 0; i < set.rows.size(); ++i) {
                const ResultRow& r = original(rows, set.rows[i]);
                if (r.data == datas[x] && scale_text(r) == scales[y]) panel.push_back(i);
            }
            std::vector<std::size_t> front, rest;
            for (std::size_t i : panel) (dominated(set.rows, panel, i) ? rest : front).push_back(i);
            std::sort(front.begin(), front.end(),
                      [&](std::size_t a, std::size_t b) { return set.rows[a].bytes < set.rows[b].bytes; });
            for (const auto& [cls, indices] : {std::pair{0, front}, std::pair{1, rest}})
                for (std::size_t i : indices)
                    csv += csv_line({std::to_string(titles.size()), std::to_string(cls),
                                     std::to_string(set.series_of[i] + 1), number_text(set.rows[i].bytes),
                                     number_text(set.rows[i].rel_l2_error), set.rows[i].cache,
                                     set.series[set.series_of[i]].label});
        }
    const auto unplottable = [&](const ResultRow& r) { return r.d == d && r.n == n && r.rel_l2_error <= 0; };
    if (std::any_of(all.begin(), all.end(), unplottable))
        notes.push_back("theory-front leaves out rows with rel_l2_error 0 (a log axis has no 0)");
    GnuplotScript script = theory_script("theory-front", "error vs resident memory at n = " + std::to_string(n),
                                         configuration_text(rows), set.series);
    script.number("COLUMNS", double(datas.size()));
    script.number("ROWS", double(scales.size()));
    script.texts("PANEL_TITLE", titles);
    return {{script, csv}};
}

// ─── theory-subgen: SubGen's ε vs its value budget ──────────────────────────────────────────

std::vector<Figure> subgen_figure(const Rows& all, std::vector<std::string>& notes) {
    Rows rows = rows_where(all, [](const ResultRow& r) {
        return (r.cache_type == "subgen4" || r.cache_type == "subgen2") && r.subgen_normalised_error > 0;
    });
    if (!rows.empty()) {
        const std::size_t d = largest_d(rows);
        std::erase_if(rows, [&](const ResultRow& r) { return r.d != d; });
        const std::size_t n = largest_n(rows);
        std::erase_if(rows, [&](const ResultRow& r) { return r.n != n; });
    }
    const auto values = [](const ResultRow& r) { return parse_cache_spec(r.cache).integer("values"); };
    if (distinct_numbers(rows, values).size() < 2) {
        notes.push_back("no theory-subgen figure: it needs subgen rows at two or more value budgets");
        return {};
    }
    // A series per spec without its value budget (and per scale where it varies), in a panel per data.
    Rows grouped = numbered_copies(rows);
    for (ResultRow& r : grouped) {
        const std::string budget = ",values=" + std::to_string(values(r));
        r.cache.erase(r.cache.find(budget), budget.size());
        r.data = rows.front().data;
    }
    const std::vector<std::string> datas = data_panels(rows);
    const SeriesSet set = group_series(grouped, {});
    const auto budget = [&](std::size_t i) { return values(original(rows, set.rows[i])); };
    std::string csv =
        csv_line({"panel", "series", "values", "subgen_normalised_error", "rel_l2_error", "cache", "label"});
    for (std::size_t s = 0; s < set.series.size(); ++s) {
        std::vector<std::size_t> by_budget = set.series[s].rows;  // by panel, then budget: a line per panel
        const auto panel = [&](std::size_t i) { return panel_of(datas, original(rows, set.rows[i])); };
        std::sort(by_budget.begin(), by_budget.end(), [&](std::size_t a, std::size_t b) {
            return std::pair(panel(a), budget(a)) < std::pair(panel(b), budget(b));
        });
        for (std::size_t i : by_budget) {
            const ResultRow& r = original(rows, set.rows[i]);
            csv += csv_line({std::to_string(panel_of(datas, r)), std::to_string(s + 1), std::to_string(budget(i)),
                             number_text(r.subgen_normalised_error), number_text(r.rel_l2_error), r.cache,
                             set.series[s].label});
        }
    }
    GnuplotScript script =
        theory_script("theory-subgen", "SubGen's error in the units of its guarantee vs its value budget, n = " +
                                           std::to_string(rows.front().n),
                      configuration_text(rows), set.series);
    script.texts("PANEL_TITLE", datas);
    return {{script, csv}};
}

}  // namespace

std::vector<Figure> theory_figures(const SeriesSet& set, std::vector<std::string>& notes) {
    std::vector<Figure> figures;
    for (auto draw : {bound_figure, cost_figure, front_figure, subgen_figure})
        for (Figure& figure : draw(set.rows, notes)) figures.push_back(std::move(figure));
    return figures;
}

}  // namespace trikv
