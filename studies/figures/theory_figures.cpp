#include "studies/figures/theory_figures.hpp"

#include <algorithm>
#include <set>

#include "caches/registry.hpp"
#include "studies/results/pareto.hpp"

namespace trikv {
namespace {

// One colour per poly degree 1, 2, 3 (Okabe-Ito), its bound line dashed in the same colour.
constexpr unsigned kDegreeColours[] = {0xD55E00, 0x0072B2, 0x009E73};

using Rows = std::vector<ResultRow>;

// The distinct values of `value` over the rows, ascending.
template <class Value>
std::vector<double> sorted_numbers(const Rows& rows, Value value) {
    std::vector<double> values = distinct(rows, [&](const ResultRow& r) { return double(value(r)); });
    std::sort(values.begin(), values.end());
    return values;
}

// The data of the rows in the study's order: a panel each, 1, 2, ... (column `panel`).
std::size_t panel_of(const std::vector<std::string>& datas, const ResultRow& r) {
    return std::size_t(std::find(datas.begin(), datas.end(), r.data) - datas.begin() + 1);
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
    const std::vector<double> degrees = sorted_numbers(rows, degree);
    const std::vector<double> ns = sorted_numbers(rows, [](const ResultRow& r) { return r.n; });
    std::vector<Series> series;
    for (double p : degrees)
        series.push_back({.label = "poly:degree=" + std::to_string(int(p)), .type = "poly", .exact = false,
                          .colour = kDegreeColours[(std::size_t(p) - 1) % std::size(kDegreeColours)], .rows = {}});
    const std::vector<std::string> datas = distinct(rows, &ResultRow::data);
    std::string csv =
        csv_line({"panel", "degree", "n", "n_rank", "d", "scale", "data", "score_bound", "rel_l2_error", "cache"});
    for (const ResultRow& r : rows)
        csv += csv_line({std::to_string(panel_of(datas, r)), std::to_string(degree(r)), std::to_string(r.n),
                         std::to_string(std::find(ns.begin(), ns.end(), double(r.n)) - ns.begin() + 1), std::to_string(r.d),
                         shortest_text(r.attention_scale), r.data, shortest_text(r.score_bound), shortest_text(r.rel_l2_error),
                         r.cache});
    GnuplotScript script("theory-bound", "theory-bound", "theory-bound.csv",
                         "polynomial method: error vs score magnitude B", configuration_text(rows), series);
    script.numbers("DEGREE", degrees);
    script.numbers("NS", ns);
    script.texts("PANEL_TITLE", datas);
    return {{script, csv}};
}

// ─── theory-cost: time and memory vs n against the seed's lines ──────────────────────────────

std::vector<Figure> cost_figure(const Rows& all, std::vector<std::string>& notes) {
    // The study's configuration the figure is drawn at: the preferred one if it has it, else the first row's.
    const auto chosen = [&](auto text, const std::string& preferred) {
        const std::vector<std::string> values = distinct(all, text);
        return std::ranges::find(values, preferred) != values.end() ? preferred : values.front();
    };
    const std::string data = chosen(&ResultRow::data, "gaussian"), scale = chosen(scale_text, "1/d");
    Rows rows = rows_where(all, [&](const ResultRow& r) { return r.data == data && scale_text(r) == scale; });
    const std::size_t d = keep_largest(rows, &ResultRow::d);
    if (distinct(rows, &ResultRow::n).size() < 2) {
        notes.push_back("no theory-cost figure: it needs two or more n at d = " + std::to_string(d) + ", " + data +
                        " data, scale " + scale);
        return {};
    }
    const SeriesSet set = group_series(rows, {});
    GnuplotScript script("theory-cost", "theory-cost", "theory-cost.csv",
                         "time and memory vs tokens against the seed's bounds", configuration_text(set.rows), set.series);
    script.number("D", double(d));
    script.number("HEADS", double(set.rows.front().heads));
    return {{script, scaling_csv(set)}};
}

// ─── theory-front: error vs memory per data and scale ───────────────────────────────────────

// Row i is dominated in its panel: another is no larger and no less accurate, and better in
// one. Errors up to the panel's exact caches' own (their float32 rounding) count as 0, so that
// rounding decides nothing.
bool dominated(const Rows& rows, const std::vector<std::size_t>& panel, std::size_t i) {
    double rounding = 0;
    for (std::size_t j : panel)
        if (rows[j].exact) rounding = std::max(rounding, rows[j].rel_l2_error);
    const auto error = [&](std::size_t j) { return rows[j].rel_l2_error <= rounding ? 0 : rows[j].rel_l2_error; };
    return std::any_of(panel.begin(), panel.end(), [&](std::size_t j) {
        return rows[j].bytes <= rows[i].bytes && error(j) <= error(i) &&
               (rows[j].bytes < rows[i].bytes || error(j) < error(i));
    });
}

std::vector<Figure> front_figure(const Rows& all, std::vector<std::string>& notes) {
    Rows at_d = all;
    const std::size_t d = keep_largest(at_d, &ResultRow::d);
    Rows rows = rows_where(at_d, [](const ResultRow& r) { return r.rel_l2_error > 0; });
    if (rows.empty()) {
        notes.push_back("no theory-front figure: no rows with rel_l2_error > 0 at d = " + std::to_string(d));
        return {};
    }
    const std::size_t n = keep_largest(rows, &ResultRow::n);
    const std::vector<std::string> datas = distinct(rows, &ResultRow::data);  // panel columns; rows by scale
    const std::vector<std::string> scales = distinct(rows, scale_text);
    // One series per cache spec in every panel: the panel, not the label, tells data and scale.
    Rows grouped = rows;
    for (ResultRow& r : grouped) r.data = rows.front().data, r.attention_scale = rows.front().attention_scale;
    const SeriesSet set = group_series(grouped, {});
    std::vector<std::string> titles;
    std::string csv = csv_line({"panel", "class", "series", "bytes", "rel_l2_error", "cache", "label"});
    for (std::size_t y = 0; y < scales.size(); ++y)
        for (std::size_t x = 0; x < datas.size(); ++x) {
            titles.push_back(datas[x] + ", scale " + scales[y]);
            std::vector<std::size_t> panel;  // into set.rows, whose data and scale are in `rows`' order
            for (std::size_t i = 0; i < set.rows.size(); ++i) {
                const ResultRow& r = rows[set.source[i]];
                if (r.data == datas[x] && scale_text(r) == scales[y]) panel.push_back(i);
            }
            std::vector<std::size_t> front, rest;
            for (std::size_t i : panel) (dominated(set.rows, panel, i) ? rest : front).push_back(i);
            std::sort(front.begin(), front.end(),
                      [&](std::size_t a, std::size_t b) { return set.rows[a].bytes < set.rows[b].bytes; });
            for (const auto& [cls, indices] : {std::pair{0, front}, std::pair{1, rest}})
                for (std::size_t i : indices)
                    csv += csv_line({std::to_string(titles.size()), std::to_string(cls),
                                     std::to_string(set.series_of[i] + 1), shortest_text(set.rows[i].bytes),
                                     shortest_text(set.rows[i].rel_l2_error), set.rows[i].cache,
                                     set.series[set.series_of[i]].label});
        }
    if (std::any_of(at_d.begin(), at_d.end(), [&](const ResultRow& r) { return r.n == n && r.rel_l2_error <= 0; }))
        notes.push_back("theory-front leaves out rows with rel_l2_error 0 (a log axis has no 0)");
    GnuplotScript script("theory-front", "theory-front", "theory-front.csv",
                         "error vs resident memory at n = " + std::to_string(n), configuration_text(rows), set.series);
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
    if (!rows.empty()) keep_largest(rows, &ResultRow::d), keep_largest(rows, &ResultRow::n);
    const auto values = [](const ResultRow& r) { return parse_cache_spec(r.cache).integer("values"); };
    if (distinct(rows, values).size() < 2) {
        notes.push_back("no theory-subgen figure: it needs subgen rows at two or more value budgets");
        return {};
    }
    const std::vector<std::string> datas = distinct(rows, &ResultRow::data);
    // Each series by panel, then budget: one line per panel.
    std::ranges::stable_sort(rows, {}, [&](const ResultRow& r) { return std::pair(panel_of(datas, r), values(r)); });
    // A series per spec without its value budget (and per scale where it varies), in a panel per data.
    Rows grouped = rows;
    for (ResultRow& r : grouped) {
        const std::string budget = ",values=" + std::to_string(values(r));
        r.cache.erase(r.cache.find(budget), budget.size());
        r.data = rows.front().data;
    }
    const SeriesSet set = group_series(grouped, {});
    const std::string csv =
        series_csv(set, {"panel", "series", "values", "subgen_normalised_error", "rel_l2_error", "cache", "label"},
                   [&](std::size_t s, std::size_t i) {
                       const ResultRow& r = rows[set.source[i]];
                       return std::vector<std::string>{std::to_string(panel_of(datas, r)), std::to_string(s + 1),
                                                       std::to_string(values(r)), shortest_text(r.subgen_normalised_error),
                                                       shortest_text(r.rel_l2_error), r.cache, set.series[s].label};
                   });
    GnuplotScript script("theory-subgen", "theory-subgen", "theory-subgen.csv",
                         "SubGen's error in the units of its guarantee vs its value budget, n = " +
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
