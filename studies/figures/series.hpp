#pragma once
// The rows a figure draws, grouped into series: one series per cache spec and configuration
// (everything but n and the seed), labelled with every parameter that differs between series,
// styled with a colour that belongs to the cache type in every figure and study.
#include <algorithm>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "studies/results/results.hpp"

namespace trikv {

struct Series {
    std::string label;   // "factor:strategy=recompute", "window:w1=128,w2=128, d=64", ...
    std::string type;    // cache type name
    bool exact = true;   // the row's exact column: filled markers; approximate ones are open
    unsigned colour = 0; // 0xRRGGBB, the type's
    int point = 7;       // gnuplot point type
    int dash = 1;        // gnuplot dash type
    std::vector<std::size_t> rows;  // into SeriesSet::rows, by n, then s (sparse data)
};

struct SeriesSet {
    std::vector<ResultRow> rows;         // ok rows with a positive time and memory
    std::vector<std::size_t> source;     // per row: its index in the rows grouped
    std::vector<std::size_t> series_of;  // per row
    std::vector<Series> series;          // by cache type (a fixed order), then first appearance
};

// Where a figure tells data apart: in the series' labels, or in panels of its own (the labels
// then leave the data out, and a series spans every panel).
enum class DataIn { label, panels };

// Groups the drawable rows of `all` (ok, positive time and memory); notes what is left out.
SeriesSet make_series(const std::vector<ResultRow>& all, std::vector<std::string>& notes, DataIn data = DataIn::label);

// Groups `rows` (all drawable); with `extra` the data is not told apart and `extra` is
// appended to each row's label instead: how the sparsity figure splits one cache's rows by support.
SeriesSet group_series(const std::vector<ResultRow>& rows, const std::function<std::string(const ResultRow&)>& extra,
                       DataIn data = DataIn::label);

// How figures name a row's data, short and without its folder: a trace as its model (the trace
// folder's name) and head, "kjv L1H0", in the family "kjv trace"; npy data by its folder's name;
// generated data by its label. A k2/v2 bias is appended: "gaussian +bias(0.03125, 1)".
struct DataName {
    std::string family, instance;
};
DataName data_name(const ResultRow& r);
std::string data_family(const ResultRow& r);
std::string data_instance(const ResultRow& r);
// The last component of a path, trailing slashes ignored.
std::string short_path_name(const std::string& path);

// A line of CSV, fields quoted where needed (numbers: framework/text.hpp's shortest_text).
std::string csv_line(const std::vector<std::string>& fields);

// A figure's data: the header, then a line of `fields` per row of each series in turn (given
// the series' index into set.series and the row's into set.rows).
std::string series_csv(const SeriesSet& set, const std::vector<std::string>& header,
                       const std::function<std::vector<std::string>(std::size_t, std::size_t)>& fields);

// Time and memory per series and n: the scaling figures' data.
std::string scaling_csv(const SeriesSet& set);

// The rows for which `keep` holds, in order.
template <class Keep>
std::vector<ResultRow> rows_where(const std::vector<ResultRow>& rows, Keep keep) {
    std::vector<ResultRow> kept;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(kept), keep);
    return kept;
}

// The distinct values of `get` (a function or a member) over the rows, in order of appearance.
template <class Get>
auto distinct(const std::vector<ResultRow>& rows, Get get) {
    std::vector<std::decay_t<std::invoke_result_t<Get, const ResultRow&>>> values;
    for (const ResultRow& r : rows)
        if (std::find(values.begin(), values.end(), std::invoke(get, r)) == values.end())
            values.push_back(std::invoke(get, r));
    return values;
}

// Keeps the rows (not empty) at the largest `size` (n, d): a figure drawn at one size. Returns it.
inline std::size_t keep_largest(std::vector<ResultRow>& rows, std::size_t ResultRow::*size) {
    const std::size_t largest = std::ranges::max(rows, {}, size).*size;
    std::erase_if(rows, [&](const ResultRow& r) { return r.*size != largest; });
    return largest;
}

// Sets the colour, point and dash of the `variant`-th series (0, 1, ...) of `series.type` in a
// figure: the type's colour everywhere, shapes and dashes stepping with the variant, approximate
// (not `series.exact`) ones open. Also how the model's figure (python/trikv/model) matches them.
void style_series(Series& series, std::size_t variant);

// "d = 64, 1 head, gaussian data, scale 1/d": the configuration every figure states.
std::string configuration_text(const std::vector<ResultRow>& rows);

// A row's attention scale as a study states it: "1/d", "1/√d", "1/256" or the number ("0.3").
std::string scale_text(const ResultRow& row);

// The non-zeros per row and support of sparse data, from its label "sparse(s=8,support=random)";
// s = 0 for other data.
struct Sparsity {
    std::size_t s = 0;
    std::string support;
};
Sparsity sparsity_of(const std::string& data);

}  // namespace trikv
