#include "studies/figures/series.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include "caches/registry.hpp"
#include "studies/pareto.hpp"

namespace trikv {
namespace {

// A cache type's colour (colour-blind-safe: Okabe-Ito, Tol) and marker shape, in the order
// series are listed. Shapes 0..5: square, circle, triangle up and down, diamond, pentagon.
struct TypeStyle {
    std::string_view type;
    unsigned colour;
    int shape;
};
constexpr std::array<TypeStyle, 10> kTypeStyles{{
    {"product", 0x0072B2, 0},
    {"factor", 0xD55E00, 1},
    {"window", 0x009E73, 2},
    {"hybrid", 0xCC79A7, 3},
    {"subgen2", 0xE69F00, 4},
    {"subgen4", 0x56B4E9, 5},
    {"sparse-product", 0x999933, 0},
    {"sparse-factor", 0x882255, 1},
    {"matrix", 0x332288, 4},
    {"reference", 0x000000, 2},
}};
constexpr std::array<unsigned, 5> kFallbackColours{0xAA4499, 0x44AA99, 0x117733, 0xCC6677, 0x661100};
constexpr int kShapes = 6;

std::size_t type_rank(const std::string& type) {
    for (std::size_t i = 0; i < kTypeStyles.size(); ++i)
        if (kTypeStyles[i].type == type) return i;
    return kTypeStyles.size();
}

// The `variant`-th series of a type steps through shapes and dashes; approximate ones are open.
void style(Series& series, std::size_t variant) {
    const std::size_t rank = type_rank(series.type);
    const std::size_t hash = std::hash<std::string>{}(series.type);
    series.colour =
        rank < kTypeStyles.size() ? kTypeStyles[rank].colour : kFallbackColours[hash % kFallbackColours.size()];
    const int shape =
        int(((rank < kTypeStyles.size() ? kTypeStyles[rank].shape : int(hash % kShapes)) + variant) % kShapes);
    series.point = 4 + 2 * shape + (series.exact ? 1 : 0);
    series.dash = int(1 + variant % 5);
}

using Parameters = std::vector<std::pair<std::string, std::string>>;

// "factor:strategy=fused,dtype=f32" → {factor, {{strategy, fused}, {dtype, f32}}}.
std::pair<std::string, Parameters> split_spec(const std::string& spec) {
    const std::size_t colon = spec.find(':');
    Parameters parameters;
    if (colon != std::string::npos) {
        std::stringstream pairs(spec.substr(colon + 1));
        for (std::string pair; std::getline(pairs, pair, ',');) {
            const std::size_t equals = pair.find('=');
            parameters.push_back({pair.substr(0, equals), equals == std::string::npos ? "" : pair.substr(equals + 1)});
        }
    }
    return {spec.substr(0, colon), parameters};
}

std::string default_of(const std::string& type, const std::string& parameter) {
    for (const CacheType* known : cache_types())
        if (known->name == type)
            for (const CacheParam& p : known->params)
                if (p.name == parameter) return p.default_value;
    return {};  // unknown types and parameters: never at a default, always shown
}

// The spec with the parameters that are off their defaults or differ between the study's specs
// of the same type: a label shows every difference between series, and no more.
std::string spec_label(const std::string& spec, const std::set<std::string>& specs) {
    const auto [type, parameters] = split_spec(spec);
    std::string shown;
    for (const auto& [name, value] : parameters) {
        bool differs = value != default_of(type, name);
        for (const std::string& other : specs) {
            const auto [other_type, other_parameters] = split_spec(other);
            if (other_type == type)
                for (const auto& [other_name, other_value] : other_parameters)
                    differs = differs || (other_name == name && other_value != value);
        }
        if (differs) shown += (shown.empty() ? "" : ",") + name + "=" + value;
    }
    return shown.empty() ? type : type + ":" + shown;
}

// A configuration column that tells series apart where it varies across the study.
struct Dimension {
    std::string_view name;
    std::string (*value)(const ResultRow&);
};
std::string data_text(const ResultRow& r) {
    const Sparsity sparsity = sparsity_of(r.data);
    return sparsity.s ? "s=" + std::to_string(sparsity.s) + " " + sparsity.support : r.data;
}
constexpr std::array<Dimension, 7> kDimensions{{
    {"workload", [](const ResultRow& r) { return r.workload; }},
    {"dtype", [](const ResultRow& r) { return r.dtype; }},
    {"data", data_text},
    {"d", [](const ResultRow& r) { return "d=" + std::to_string(r.d); }},
    {"heads", [](const ResultRow& r) { return "heads=" + std::to_string(r.heads); }},
    {"kv_heads", [](const ResultRow& r) { return "kv_heads=" + std::to_string(r.kv_heads ? r.kv_heads : r.heads); }},
    {"variant", [](const ResultRow& r) { return r.variant; }},
}};

bool varies(const Dimension& dimension, const std::vector<ResultRow>& rows) {
    return std::any_of(rows.begin(), rows.end(),
                       [&](const ResultRow& r) { return dimension.value(r) != dimension.value(rows.front()); });
}

template <class Get>
std::string distinct_values(const std::vector<ResultRow>& rows, Get get) {
    std::set<std::string> seen;
    std::string text;
    for (const ResultRow& r : rows)
        if (seen.insert(get(r)).second) text += (text.empty() ? "" : ", ") + get(r);
    return text;
}

}  // namespace

Sparsity sparsity_of(const std::string& data) {
    const std::string_view prefix = "sparse(s=", middle = ",support=";
    const std::size_t comma = data.find(middle);
    Sparsity sparsity;
    if (data.rfind(prefix, 0) != 0 || data.back() != ')' || comma == std::string::npos) return {};
    const auto [end, error] = std::from_chars(data.data() + prefix.size(), data.data() + comma, sparsity.s);
    if (error != std::errc() || end != data.data() + comma) return {};
    sparsity.support = data.substr(comma + middle.size(), data.size() - 1 - comma - middle.size());
    return sparsity;
}

SeriesSet group_series(std::vector<ResultRow> rows, const std::function<std::string(const ResultRow&)>& extra) {
    SeriesSet set;
    set.rows = std::move(rows);  // by type, then as measured: series come in that order
    std::stable_sort(set.rows.begin(), set.rows.end(), [](const ResultRow& a, const ResultRow& b) {
        return type_rank(a.cache_type) < type_rank(b.cache_type);
    });
    std::set<std::string> specs;
    for (const ResultRow& r : set.rows) specs.insert(r.cache);
    std::vector<const Dimension*> dimensions;
    for (const Dimension& dimension : kDimensions)
        if ((!extra || dimension.name != "data") && varies(dimension, set.rows)) dimensions.push_back(&dimension);

    std::map<std::string, std::size_t> index;   // label -> series
    std::map<std::string, std::size_t> variants;  // per type
    for (std::size_t i = 0; i < set.rows.size(); ++i) {
        const ResultRow& r = set.rows[i];
        std::string label = spec_label(r.cache, specs);
        for (const Dimension* dimension : dimensions) label += ", " + dimension->value(r);
        if (extra) label += extra(r);
        const auto [it, added] = index.insert({label, set.series.size()});
        if (added) {
            set.series.push_back({.label = label, .type = r.cache_type, .exact = counts_as_exact(r), .rows = {}});
            style(set.series.back(), variants[r.cache_type]++);
        }
        set.series[it->second].rows.push_back(i);
        set.series_of.push_back(it->second);
    }
    for (Series& series : set.series)
        std::stable_sort(series.rows.begin(), series.rows.end(),
                         [&](std::size_t a, std::size_t b) { return set.rows[a].n < set.rows[b].n; });
    return set;
}

SeriesSet make_series(const std::vector<ResultRow>& all, std::vector<std::string>& notes) {
    std::vector<ResultRow> rows;
    std::size_t not_ok = 0, not_positive = 0;
    for (const ResultRow& row : all) {
        if (!row.ok())
            ++not_ok;
        else if (!(row.step_ms_median > 0 && row.bytes > 0))
            ++not_positive;
        else
            rows.push_back(row);
    }
    if (not_ok) notes.push_back(std::to_string(not_ok) + " rows whose status is not ok are not drawn");
    if (not_positive)
        notes.push_back(std::to_string(not_positive) + " ok rows without a positive step time and memory are not drawn");
    return group_series(std::move(rows), {});
}

std::string configuration_text(const std::vector<ResultRow>& rows) {
    const std::string heads = distinct_values(rows, [](const ResultRow& r) { return std::to_string(r.heads); });
    const std::string data = distinct_values(rows, [](const ResultRow& r) {
        return sparsity_of(r.data).s ? std::string("sparse") : r.data;
    });
    // Each attention kind's default scale (attention/*_attention.hpp): the study has no scale key.
    const bool matrix = std::any_of(rows.begin(), rows.end(), [](const ResultRow& r) { return is_matrix_baseline(r); });
    return "d = " + distinct_values(rows, [](const ResultRow& r) { return std::to_string(r.d); }) + ", " +
           (heads == "1" ? "1 head" : "heads = " + heads) + ", " + data + " data, scale 1/d" +
           (matrix ? " (matrix: 1/√d)" : "");
}

}  // namespace trikv
