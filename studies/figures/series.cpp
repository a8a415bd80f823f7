#include "studies/figures/series.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string_view>

#include "caches/registry.hpp"
#include "studies/results/pareto.hpp"

namespace trikv {
namespace {

// A cache type's colour (colour-blind-safe: Okabe-Ito, Tol) and marker shape, in the order
// series are listed. Shapes 0..5: square, circle, triangle up and down, diamond, pentagon.
struct TypeStyle {
    std::string_view type;
    unsigned colour;
    int shape;
};
constexpr std::array<TypeStyle, 13> kTypeStyles{{
    {"product", 0x0072B2, 0},        {"factor", 0xD55E00, 1},        {"window", 0x009E73, 2},
    {"hybrid", 0xCC79A7, 3},         {"subgen2", 0xE69F00, 4},       {"subgen4", 0x56B4E9, 5},
    {"sparse-product", 0x999933, 0}, {"sparse-factor", 0x882255, 1}, {"matrix", 0x332288, 4},
    {"reference", 0x000000, 2},
    {"poly", 0x661100, 4},
    // Peers (studies/peers/): a system's series share its colour, trikv's keep their type's.
    {"pytorch", 0xEE3377, 1}, {"numpy", 0x777777, 3},
}};
// Types not listed: a colour and shape from their name's hash, the same in every study.
constexpr std::array<unsigned, 5> kFallbackColours{0xAA4499, 0x44AA99, 0x117733, 0xCC6677, 0xDDCC77};
constexpr int kShapes = 6;
constexpr int kDashes = 5;
// A type's colour, then darker and lighter shades of it: mixed with black (negative) or white.
constexpr std::array<double, 5> kShades{0, -0.45, 0.45, -0.7, 0.65};

unsigned shaded(unsigned colour, std::size_t shade) {
    const double mix = kShades[shade];
    unsigned out = 0;
    for (int shift : {16, 8, 0}) {
        const double channel = double((colour >> shift) & 255);
        const double mixed = mix < 0 ? channel * (1 + mix) : channel + (255 - channel) * mix;
        out |= unsigned(std::lround(mixed)) << shift;
    }
    return out;
}
// A scale within float64 rounding of 1/d or 1/√d is named so (results.csv stores it in full).
constexpr double kScaleTolerance = 1e-12;

std::size_t type_rank(const std::string& type) {
    return std::find_if(kTypeStyles.begin(), kTypeStyles.end(), [&](const TypeStyle& s) { return s.type == type; }) -
           kTypeStyles.begin();
}

// The registered default of a type's parameter; none for types and parameters not registered
// in this process (a plugin's, a Python type's).
std::optional<std::string> default_of(const std::string& type, const std::string& parameter) {
    for (const CacheType* known : cache_types())
        for (const CacheParam& p : known->params)
            if (known->name == type && p.name == parameter) return p.default_value;
    return std::nullopt;
}

// The spec with the parameters that are off their defaults or differ between the study's specs
// of the same type: a label shows every difference between series, and no more. A parameter
// without a known default shows where it differs, or where its type has a single spec.
std::string spec_label(const std::string& spec, const std::set<std::string>& specs) {
    const SpecParts parts_of_spec = split_cache_spec(spec);
    const std::string& type = parts_of_spec.type;
    const bool alone = std::ranges::count_if(specs, [&](const std::string& other) {
                           return split_cache_spec(other).type == type;
                       }) == 1;
    std::string shown;
    for (const auto& [name, value] : parts_of_spec.parameters) {
        const std::optional<std::string> fallback = default_of(type, name);
        bool differs = fallback ? value != *fallback : alone;
        for (const std::string& other : specs) {
            const SpecParts parts = split_cache_spec(other);
            for (const auto& [other_name, other_value] : parts.parameters)
                differs = differs || (parts.type == type && other_name == name && other_value != value);
        }
        if (differs) shown += (shown.empty() ? "" : ",") + name + "=" + value;
    }
    return shown.empty() ? type : type + ":" + shown;
}

// The configuration columns that tell series apart where they vary across the study.
using Dimension = std::string (*)(const ResultRow&);
std::string data_text(const ResultRow& r) {
    const Sparsity sparsity = sparsity_of(r.data);
    return sparsity.s ? "s=" + std::to_string(sparsity.s) + " " + sparsity.support : data_instance(r);
}
// Sparse data's non-zeros and support: in figures with data panels a series dimension still,
// so that the panels are per data kind and not per s.
std::string sparsity_text(const ResultRow& r) {
    const Sparsity sparsity = sparsity_of(r.data);
    return sparsity.s ? "s=" + std::to_string(sparsity.s) + " " + sparsity.support : "";
}
constexpr std::array<Dimension, 8> kDimensions{
    [](const ResultRow& r) { return name_of(r.workload); }, [](const ResultRow& r) { return r.dtype; }, data_text,
    [](const ResultRow& r) { return "d=" + std::to_string(r.d); },
    [](const ResultRow& r) { return "heads=" + std::to_string(r.heads); },
    [](const ResultRow& r) { return "kv_heads=" + std::to_string(r.kv_heads ? r.kv_heads : r.heads); },
    [](const ResultRow& r) { return r.variant; },
    // Empty where it does not apply: the matrix baseline's scale is its own default.
    [](const ResultRow& r) { return is_matrix_baseline(r) ? std::string() : "scale " + scale_text(r); }};

bool varies(Dimension dimension, const std::vector<ResultRow>& rows) {
    std::set<std::string> values;
    for (const ResultRow& r : rows)
        if (const std::string value = dimension(r); !value.empty()) values.insert(value);
    return values.size() > 1;
}

// "64, 128": the distinct values of `get` over the rows, in order of appearance.
template <class Get>
std::string distinct_values(const std::vector<ResultRow>& rows, Get get) {
    std::string text;
    for (const std::string& value : distinct(rows, get)) text += (text.empty() ? "" : ", ") + value;
    return text;
}

}  // namespace

void style_series(Series& series, std::size_t variant) {
    const std::size_t rank = type_rank(series.type), hash = std::hash<std::string>{}(series.type);
    const bool listed = rank < kTypeStyles.size();
    const unsigned colour = listed ? kTypeStyles[rank].colour : kFallbackColours[hash % kFallbackColours.size()];
    // The first kShapes variants of a type differ in shape; the next ones in shade as well, so
    // that colour and marker tell every series apart also where no line is drawn.
    series.colour = shaded(colour, (variant / kShapes) % kShades.size());
    const int shape = int(((listed ? kTypeStyles[rank].shape : int(hash % kShapes)) + variant) % kShapes);
    series.point = 4 + 2 * shape + (series.exact ? 1 : 0);
    series.dash = int(1 + variant % kDashes);
}

std::string short_path_name(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    return trimmed.substr(trimmed.rfind('/') == std::string::npos ? 0 : trimmed.rfind('/') + 1);
}

DataName data_name(const ResultRow& r) {
    const std::string bias = r.k2_bias != 0 || r.v2_bias != 0
                                 ? " +bias(" + shortest_text(r.k2_bias) + ", " + shortest_text(r.v2_bias) + ")" : "";
    // trace(DIR,layer=L,head=H) and npy(DIR): DIR may hold commas, so it is cut from the end.
    if (r.data.starts_with("trace(") && r.data.ends_with(")")) {
        const std::size_t layer = r.data.rfind(",layer="), head = r.data.rfind(",head=");
        if (layer != std::string::npos && head != std::string::npos && layer < head) {
            const std::string model = short_path_name(r.data.substr(6, layer - 6));
            const std::string layer_text = r.data.substr(layer + 7, head - layer - 7),
                              head_text = r.data.substr(head + 6, r.data.size() - head - 7);
            return {model + " trace" + bias, model + " L" + layer_text + "H" + head_text + bias};
        }
    }
    if (r.data.starts_with("npy(") && r.data.ends_with(")")) {
        const std::string stem = short_path_name(r.data.substr(4, r.data.size() - 5));
        return {stem + bias, stem + bias};
    }
    if (sparsity_of(r.data).s) return {"sparse" + bias, sparsity_text(r) + bias};
    return {r.data + bias, r.data + bias};
}

std::string data_family(const ResultRow& r) { return data_name(r).family; }
std::string data_instance(const ResultRow& r) { return data_name(r).instance; }

std::string scale_text(const ResultRow& row) {
    const double d = double(row.d), scale = row.attention_scale;
    // Rows from before the attention_scale column ran at their kind's default.
    if (scale == 0) return is_matrix_baseline(row) ? "1/√d" : "1/d";
    if (std::abs(scale * d - 1) < kScaleTolerance) return "1/d";
    if (std::abs(scale * std::sqrt(d) - 1) < kScaleTolerance) return "1/√d";
    char text[32];
    const double reciprocal = std::round(1 / scale);  // 1/256 rather than 0.00390625
    if (reciprocal > 1 && std::abs(scale * reciprocal - 1) < kScaleTolerance)
        std::snprintf(text, sizeof text, "1/%.0f", reciprocal);
    else
        std::snprintf(text, sizeof text, "%g", scale);
    return text;
}

Sparsity sparsity_of(const std::string& data) {
    Sparsity sparsity;
    char support[32] = {};
    int length = 0;
    if (std::sscanf(data.c_str(), "sparse(s=%zu,support=%31[^)])%n", &sparsity.s, support, &length) != 2 ||
        std::size_t(length) != data.size())
        return {};
    sparsity.support = support;
    return sparsity;
}

SeriesSet group_series(const std::vector<ResultRow>& rows, const std::function<std::string(const ResultRow&)>& extra,
                       DataIn data) {
    SeriesSet set;
    set.source.resize(rows.size());  // by type, then as measured: series come in that order
    std::iota(set.source.begin(), set.source.end(), 0);
    std::ranges::stable_sort(set.source, {}, [&](std::size_t i) { return type_rank(rows[i].cache_type); });
    for (std::size_t i : set.source) set.rows.push_back(rows[i]);
    std::set<std::string> specs;
    for (const ResultRow& r : set.rows) specs.insert(r.cache);
    std::vector<Dimension> dimensions;  // `extra` replaces the data's
    for (const Dimension dimension : kDimensions)
        if (dimension != data_text || (data == DataIn::label && !extra)) {
            if (varies(dimension, set.rows)) dimensions.push_back(dimension);
        } else if (data == DataIn::panels && !extra && varies(sparsity_text, set.rows)) {
            dimensions.push_back(sparsity_text);
        }

    std::map<std::string, std::size_t> index, variants;  // label → series; type → its series so far
    for (std::size_t i = 0; i < set.rows.size(); ++i) {
        const ResultRow& r = set.rows[i];
        // A peer's row: its system names the series and gives it its colour.
        const bool peer = r.system != kTrikvSystem;
        std::string label = (peer ? r.system + " " : "") + spec_label(r.cache, specs);
        for (const Dimension dimension : dimensions)
            if (const std::string value = dimension(r); !value.empty()) label += ", " + value;
        if (extra) label += extra(r);
        const auto [it, added] = index.insert({label, set.series.size()});
        if (added) {
            const std::string style = peer ? r.system : r.cache_type;
            set.series.push_back({.label = label, .type = style, .exact = r.exact, .rows = {}});
            style_series(set.series.back(), variants[style]++);
        }
        set.series[it->second].rows.push_back(i);
        set.series_of.push_back(it->second);
    }
    for (Series& series : set.series)  // by n, then (sparse data) by s
        std::stable_sort(series.rows.begin(), series.rows.end(), [&](std::size_t a, std::size_t b) {
            return std::pair(set.rows[a].n, sparsity_of(set.rows[a].data).s) < std::pair(set.rows[b].n, sparsity_of(set.rows[b].data).s);
        });
    return set;
}

SeriesSet make_series(const std::vector<ResultRow>& all, std::vector<std::string>& notes, DataIn data) {
    const std::vector<ResultRow> rows =
        rows_where(all, [](const ResultRow& r) { return r.ok() && r.step_ms_median > 0 && r.bytes > 0; });
    const auto not_ok = std::count_if(all.begin(), all.end(), [](const ResultRow& r) { return !r.ok(); });
    const auto not_positive = std::ptrdiff_t(all.size() - rows.size()) - not_ok;
    if (not_ok) notes.push_back(std::to_string(not_ok) + " rows whose status is not ok are not drawn");
    if (not_positive)
        notes.push_back(std::to_string(not_positive) + " ok rows without a positive step time and memory are not drawn");
    return group_series(rows, {}, data);
}

std::string csv_line(const std::vector<std::string>& fields) { return csv_fields(fields) + "\n"; }

std::string series_csv(const SeriesSet& set, const std::vector<std::string>& header,
                       const std::function<std::vector<std::string>(std::size_t, std::size_t)>& fields) {
    std::string csv = csv_line(header);
    for (std::size_t s = 0; s < set.series.size(); ++s)
        for (std::size_t i : set.series[s].rows) csv += csv_line(fields(s, i));
    return csv;
}

std::string scaling_csv(const SeriesSet& set) {
    return series_csv(set, {"series", "n", "step_ms", "bytes", "cache", "label"}, [&](std::size_t s, std::size_t i) {
        const ResultRow& r = set.rows[i];
        return std::vector<std::string>{std::to_string(s + 1), std::to_string(r.n), shortest_text(r.step_ms_median),
                                        shortest_text(r.bytes), r.cache, set.series[s].label};
    });
}

std::string configuration_text(const std::vector<ResultRow>& rows) {
    const std::string heads = distinct_values(rows, [](const ResultRow& r) { return std::to_string(r.heads); });
    const std::string data = distinct_values(rows, [](const ResultRow& r) {
        return sparsity_of(r.data).s ? std::string("sparse") : data_family(r);
    });
    // The tensor caches' scales; the matrix baseline's default 1/√d said apart.
    const std::vector<ResultRow> tensor = rows_where(rows, [](const ResultRow& r) { return !is_matrix_baseline(r); });
    const bool matrix = tensor.size() < rows.size();
    const std::string scales = tensor.empty() ? "1/d" : distinct_values(tensor, scale_text);
    return "d = " + distinct_values(rows, [](const ResultRow& r) { return std::to_string(r.d); }) + ", " +
           (heads == "1" ? "1 head" : "heads = " + heads) + ", " + data + " data, scale " + scales +
           (matrix ? " (matrix: 1/√d)" : "");
}

}  // namespace trikv
