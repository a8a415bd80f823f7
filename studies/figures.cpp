#include "studies/figures.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/files.hpp"
#include "studies/pareto.hpp"

namespace trikv {
namespace {

namespace fs = std::filesystem;

// ─── Text ────────────────────────────────────────────────────────────────────────────────────

std::string number(double value) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

std::string format(const char* pattern, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, pattern, value);
    return buffer;
}

// Two significant digits, exponent without padding: 5e-8, 2.5e-7, 0.03.
std::string short_number(double value) {
    std::string text = format("%.2g", value);
    const std::size_t e = text.find('e');
    if (e == std::string::npos) return text;
    std::string exponent = text.substr(e + 1);
    const bool negative = exponent[0] == '-';
    exponent.erase(0, exponent.find_first_not_of("+-0"));
    return text.substr(0, e) + "e" + (negative ? "-" : "") + exponent;
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

std::string csv_line(const std::vector<std::string>& fields) {
    std::string line;
    for (const std::string& field : fields) line += (line.empty() ? "" : ",") + csv_field(field);
    return line + "\n";
}

// A gnuplot single-quoted string: no escapes except a doubled quote.
std::string gp_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
}

std::string shell_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string latex_escape(const std::string& text) {
    // clang-format off
    static const std::map<char, std::string> escapes = {
        {'\\', "\\textbackslash{}"}, {'{', "\\{"}, {'}', "\\}"}, {'$', "\\$"}, {'&', "\\&"},
        {'#', "\\#"}, {'^', "\\^{}"}, {'_', "\\_"}, {'%', "\\%"}, {'~', "\\~{}"}};
    // clang-format on
    std::string escaped;
    for (char c : text) {
        const auto it = escapes.find(c);
        escaped += it == escapes.end() ? std::string(1, c) : it->second;
    }
    return escaped;
}

// A label in two spellings: UTF-8 (with gnuplot's enhanced markup where the context enables
// it) for the cairo and svg terminals, LaTeX for tikz. Scripts pick one with T(plain, latex).
struct Text {
    std::string plain, tex;
};

Text literal(const std::string& plain) { return {plain, latex_escape(plain)}; }

std::string gp_text(const Text& text) {
    if (text.plain == text.tex) return gp_quote(text.plain);
    return "T(" + gp_quote(text.plain) + ", " + gp_quote(text.tex) + ")";
}

// ─── Styles: one table, so a cache type looks the same in every figure and study ──────────────

// Colour-blind-safe colours (Okabe-Ito, Tol). Shape families: 0 square, 1 circle,
// 2 triangle up, 3 triangle down, 4 diamond, 5 pentagon (gnuplot point types 4+2k open, 5+2k filled).
struct TypeStyle {
    std::string_view type, colour;
    int shape;
};
constexpr std::array<TypeStyle, 9> kTypeStyles{{
    {"product", "#0072B2", 0},
    {"factor", "#D55E00", 1},
    {"window", "#009E73", 2},
    {"hybrid", "#CC79A7", 3},
    {"subgen2", "#E69F00", 4},
    {"subgen4", "#56B4E9", 5},
    {"sparse-product", "#999933", 0},
    {"sparse-factor", "#882255", 1},
    {"reference", "#000000", 4},
}};
constexpr std::array<std::string_view, 6> kFallbackColours{"#AA4499", "#44AA99", "#117733",
                                                           "#CC6677", "#332288", "#661100"};
constexpr int kShapes = 6;
constexpr std::string_view kLineGrey = "#404040", kBoundGrey = "#707070", kFadedGrey = "#b8b8b8";

std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t hash = 14695981039346656037ull;
    for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
    return hash;
}

// The colour mixed with white: dominated and context points.
std::string faded(std::string_view colour) {
    char mixed[8] = "#";
    for (int i = 0; i < 3; ++i) {
        const int channel = std::stoi(std::string(colour.substr(1 + 2 * i, 2)), nullptr, 16);
        std::snprintf(mixed + 1 + 2 * i, 3, "%02X", int(std::lround(255 - 0.38 * (255 - channel))));
    }
    return mixed;
}

std::size_t type_rank(const std::string& type) {
    for (std::size_t i = 0; i < kTypeStyles.size(); ++i)
        if (kTypeStyles[i].type == type) return i;
    return kTypeStyles.size();
}

struct Style {
    std::string colour, faded;
    int point = 7;  // gnuplot point type
    int dash = 1;   // gnuplot dash type
};

// `variant` numbers the series of one type: 0 filled, 1 open, then the next shape, filled and
// open, each pair with the next dash pattern.
Style style_of(const std::string& type, std::size_t variant) {
    const std::size_t rank = type_rank(type);
    const std::uint64_t hash = fnv1a(type);
    const std::string colour(rank < kTypeStyles.size() ? kTypeStyles[rank].colour
                                                       : kFallbackColours[hash % kFallbackColours.size()]);
    const int base_shape = rank < kTypeStyles.size() ? kTypeStyles[rank].shape : int(hash / 7 % kShapes);
    const int shape = int((base_shape + variant / 2) % kShapes);
    return {colour, faded(colour), 4 + 2 * shape + (variant % 2 == 0 ? 1 : 0), int(1 + variant / 2 % 5)};
}

// ─── The study: drawable rows grouped into series ──────────────────────────────────────────────

// Rows of one cache spec at one configuration (everything but n and the seed). Dimensions that
// vary across the study are appended to the spec in the label ("factor:strategy=fused, d=64").
struct Series {
    std::string type;
    Text label;
    Style style;
    std::vector<std::size_t> rows;  // into Study::rows, by (n, bytes)
};

// What a study's figures are called and what their axes measure: decode steps, or VAR's
// scale steps (var-scaling) and whole generations (var-pareto, var-error).
struct Labels {
    std::string prefix;  // of the figure names: "" or "var-"
    Text time, memory, tokens;
    std::string time_words;  // for the scripts' one-line descriptions
};

struct Study {
    Labels labels;
    std::vector<ResultRow> rows;  // ok rows with positive time and memory
    std::vector<std::size_t> series_of;
    std::vector<Series> series;
};

// The sparse data's parameters, read back from its label "sparse(s=8,support=random)" (the
// `data` column, studies/study_spec.cpp); nullopt for other data.
struct Sparsity {
    std::size_t s = 0;
    std::string support;
};

std::optional<Sparsity> sparsity_of(const std::string& data) {
    const std::string_view prefix = "sparse(s=", middle = ",support=";
    if (data.rfind(prefix, 0) != 0 || data.back() != ')') return std::nullopt;
    const std::size_t comma = data.find(middle, prefix.size());
    if (comma == std::string::npos) return std::nullopt;
    Sparsity sparsity;
    const auto [end, error] = std::from_chars(data.data() + prefix.size(), data.data() + comma, sparsity.s);
    if (error != std::errc() || end != data.data() + comma || sparsity.s == 0) return std::nullopt;
    sparsity.support = data.substr(comma + middle.size(), data.size() - 1 - comma - middle.size());
    return sparsity;
}

// A configuration column, for telling series and groups apart by what varies in a study.
struct Dimension {
    std::string_view name;
    std::string (*get)(const ResultRow&);
};
constexpr std::array<Dimension, 6> kDimensions{{
    {"n", [](const ResultRow& r) { return std::to_string(r.n); }},
    {"d", [](const ResultRow& r) { return std::to_string(r.d); }},
    {"heads", [](const ResultRow& r) { return std::to_string(r.heads); }},
    {"workload", [](const ResultRow& r) { return r.workload; }},
    {"dtype", [](const ResultRow& r) { return r.dtype; }},
    {"data", [](const ResultRow& r) { return r.data; }},
}};

// Those of the named dimensions on which `rows` differ, in table order.
std::vector<const Dimension*> varying(std::initializer_list<std::string_view> names,
                                      const std::vector<const ResultRow*>& rows) {
    std::vector<const Dimension*> result;
    for (const Dimension& dimension : kDimensions) {
        if (std::find(names.begin(), names.end(), dimension.name) == names.end() || rows.empty()) continue;
        const std::string first = dimension.get(*rows.front());
        if (std::any_of(rows.begin(), rows.end(), [&](const ResultRow* r) { return dimension.get(*r) != first; }))
            result.push_back(&dimension);
    }
    return result;
}

// "d=64 heads=2": the row's values of the dimensions, after `separator`. Sparse data reads
// "s=8 random" rather than "data=sparse(s=8,support=random)": keys of sparse sweeps stay short.
std::string describe(const ResultRow& row, const std::vector<const Dimension*>& dimensions,
                     const std::string& separator) {
    std::string text;
    for (const Dimension* dimension : dimensions) {
        const auto sparsity = dimension->name == "data" ? sparsity_of(row.data) : std::nullopt;
        text += separator + (sparsity ? "s=" + std::to_string(sparsity->s) + " " + sparsity->support
                                      : std::string(dimension->name) + "=" + dimension->get(row));
    }
    return text;
}

// Orders "d=64" before "d=128": runs of digits compare as numbers.
bool natural_less(const std::string& a, const std::string& b) {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (digit(a[i]) && digit(b[j])) {
            std::size_t i_end = i, j_end = j;
            while (i_end < a.size() && digit(a[i_end])) ++i_end;
            while (j_end < b.size() && digit(b[j_end])) ++j_end;
            const std::string x = a.substr(i, i_end - i), y = b.substr(j, j_end - j);
            if (x.size() != y.size()) return x.size() < y.size();
            if (x != y) return x < y;
            i = i_end, j = j_end;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i, ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

// ok rows with a positive time and memory (log axes); notes what is left out.
std::vector<ResultRow> drawable_rows(const std::vector<ResultRow>& all, std::vector<std::string>& notes) {
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
        notes.push_back(std::to_string(not_positive) +
                        " ok rows without a positive step time and memory are not drawn");
    return rows;
}

// A canonical spec without the parameters at their defaults ("product:dtype=f32" → "product",
// "subgen4:delta=0.5,samples=32,values=512,seed=0" → "subgen4:samples=32,values=512"): keys stay
// legible with many series, and distinct specs keep distinct labels. Unknown types keep the spec.
std::string display_spec(const std::string& spec) {
    const std::size_t colon = spec.find(':');
    if (colon == std::string::npos) return spec;
    const std::string name = spec.substr(0, colon);
    const auto& types = cache_types();
    const auto type = std::find_if(types.begin(), types.end(), [&](const CacheType* t) { return t->name == name; });
    if (type == types.end()) return spec;
    std::string kept;
    std::stringstream pairs(spec.substr(colon + 1));
    for (std::string pair; std::getline(pairs, pair, ',');) {
        const std::size_t equals = pair.find('=');
        const bool is_default = std::any_of((*type)->params.begin(), (*type)->params.end(), [&](const CacheParam& p) {
            return equals != std::string::npos && p.name == pair.substr(0, equals) && p.default_value == pair.substr(equals + 1);
        });
        if (!is_default) kept += (kept.empty() ? "" : ",") + pair;
    }
    return kept.empty() ? name : name + ":" + kept;
}

// Series in a stable order: by type (the style table's order), then naturally by label.
Study make_study(const std::vector<ResultRow>& all, const Labels& labels, std::vector<std::string>& notes) {
    Study study;
    study.labels = labels;
    study.rows = drawable_rows(all, notes);
    std::vector<const ResultRow*> pointers;
    for (const ResultRow& row : study.rows) pointers.push_back(&row);
    const auto dimensions = varying({"workload", "dtype", "data", "d", "heads"}, pointers);

    std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> by_label;  // (type, label) -> rows
    for (std::size_t i = 0; i < study.rows.size(); ++i)
        by_label[{study.rows[i].cache_type, display_spec(study.rows[i].cache) + describe(study.rows[i], dimensions, ", ")}].push_back(
            i);
    std::vector<std::pair<std::pair<std::string, std::string>, std::vector<std::size_t>>> members(by_label.begin(),
                                                                                                  by_label.end());
    std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
        const auto& [type_a, label_a] = a.first;
        const auto& [type_b, label_b] = b.first;
        if (type_rank(type_a) != type_rank(type_b)) return type_rank(type_a) < type_rank(type_b);
        return type_a != type_b ? type_a < type_b : natural_less(label_a, label_b);
    });

    study.series_of.resize(study.rows.size());
    std::map<std::string, std::size_t> variants;  // per type
    for (auto& [key, indices] : members) {
        const auto& [type, label] = key;
        std::stable_sort(indices.begin(), indices.end(), [&](std::size_t a, std::size_t b) {
            return std::tie(study.rows[a].n, study.rows[a].bytes) < std::tie(study.rows[b].n, study.rows[b].bytes);
        });
        for (std::size_t i : indices) study.series_of[i] = study.series.size();
        study.series.push_back({type, literal(label), style_of(type, variants[type]++), indices});
    }
    return study;
}

// ─── Log axes with readable tics ─────────────────────────────────────────────────────────────

constexpr double kFontPt = 7, kKeyFontPt = 6;  // axis text and key text [pt]
constexpr double kColumnIn = 3.5;              // a single column; two-panel figures take two

enum class Scale { bytes, tokens, decimal };

struct Tic {
    double at;
    Text label;
    bool minor = false;
};

// Where an axis lies on the page, so that its labels do not collide.
struct Extent {
    double length_in;
    bool horizontal;
};

struct Axis {
    Text title;
    double lo = 1, hi = 10;
    std::vector<Tic> tics;
};

// Width of a label in em, from Helvetica's metrics (the figures' face; LaTeX's is close):
// printable ASCII, 0.6 em for anything else, enhanced-text markup not counted.
double text_em(const std::string& label) {
    // clang-format off
    static constexpr std::array<short, 95> kWidths{
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,   //  !"#$%&'()*+,-./
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,   // 0-9 :;<=>?
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  // @A-O
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,   // P-Z [\]^_
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,   // `a-o
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584};       // p-z {|}~
    // clang-format on
    double em = 0;
    for (unsigned char c : label) {
        if (c == '^' || c == '{' || c == '}' || (c & 0xC0) == 0x80) continue;  // markup, UTF-8 tails
        em += c >= 32 && c < 127 ? kWidths[c - 32] / 1000.0 : 0.6;
    }
    return em;
}

// Characters gnuplot counts in a label (UTF-8 code points).
double code_points(const std::string& label) {
    return double(std::count_if(label.begin(), label.end(),
                                [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::size_t labelled(const std::vector<Tic>& tics) {
    return std::size_t(std::count_if(tics.begin(), tics.end(), [](const Tic& t) { return !t.minor; }));
}

// Neighbouring labels keep about a character (side by side) or half a line (stacked) apart.
bool legible(const std::vector<Tic>& tics, double lo, double hi, Extent extent) {
    const Tic* previous = nullptr;
    for (const Tic& tic : tics) {
        if (tic.minor) continue;
        if (previous) {
            const double gap = extent.length_in * std::log(tic.at / previous->at) / std::log(hi / lo);
            const double side_by_side = (text_em(previous->label.plain) + text_em(tic.label.plain)) / 2 + 1;
            if (gap < (extent.horizontal ? side_by_side : 1.5) * kFontPt / 72) return false;
        }
        previous = &tic;
    }
    return true;
}

// Candidates run from sparse to dense: the first with `wanted` labels, or else the densest
// legible one before it.
std::vector<Tic> choose(const std::vector<std::vector<Tic>>& candidates, double lo, double hi, Extent extent,
                        std::size_t wanted) {
    std::vector<Tic> best = candidates.front();
    for (const std::vector<Tic>& candidate : candidates) {
        if (!legible(candidate, lo, hi, extent)) break;
        best = candidate;
        if (labelled(candidate) >= wanted) break;
    }
    return best;
}

Text binary_label(int exponent, Scale scale) {
    if (scale == Scale::tokens) {
        if (exponent < 17) return literal(format("%.0f", std::ldexp(1.0, exponent)));
        const std::string e = std::to_string(exponent);
        return {"2^{" + e + "}", "$2^{" + e + "}$"};
    }
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    const int unit = std::clamp(exponent / 10, 0, 6);
    return literal(format("%g ", std::ldexp(1.0, exponent - 10 * unit)) + units[unit]);
}

bool multiple(int value, int step) { return ((value % step) + step) % step == 0; }

// Powers of two, every step-th labelled, the others minor.
std::vector<Tic> binary_tics(double lo, double hi, Scale scale, Extent extent) {
    const int first = int(std::ceil(std::log2(lo) - 1e-9)), last = int(std::floor(std::log2(hi) + 1e-9));
    std::vector<std::vector<Tic>> candidates;
    for (int step : {20, 10, 5, 3, 2, 1}) {
        std::vector<Tic> tics;
        for (int e = first; e <= last; ++e) {
            if (multiple(e, step))
                tics.push_back({std::ldexp(1.0, e), binary_label(e, scale)});
            else if (last - first <= 40)
                tics.push_back({std::ldexp(1.0, e), {"", ""}, true});
        }
        candidates.push_back(tics);
    }
    return choose(candidates, lo, hi, extent, 4);
}

Text decimal_label(double mantissa, int power, bool exponents) {
    if (!exponents) return literal(format("%g", mantissa * std::pow(10.0, power)));
    const std::string e = std::to_string(power), m = format("%g", mantissa);
    if (mantissa == 1) return {"10^{" + e + "}", "$10^{" + e + "}$"};
    return {m + "·10^{" + e + "}", "$" + m + "\\cdot10^{" + e + "}$"};
}

// Labels m·10^e for the mantissas given, in decades that are multiples of decade_step; minor
// tics fill the sparse sets. All labels use powers of ten once one needs them.
std::vector<Tic> decimal_candidate(double lo, double hi, const std::vector<double>& mantissas, int decade_step) {
    const int first = int(std::floor(std::log10(lo))), last = int(std::ceil(std::log10(hi)));
    auto inside = [&](double v) { return v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9); };
    std::vector<std::pair<double, int>> majors;  // mantissa, power
    for (int e = first; e <= last; ++e)
        for (double m : mantissas)
            if (multiple(e, decade_step) && inside(m * std::pow(10.0, e))) majors.push_back({m, e});
    const bool exponents = std::any_of(majors.begin(), majors.end(), [](const auto& major) {
        const double v = major.first * std::pow(10.0, major.second);
        return v < 1e-3 || v >= 1e5;
    });
    std::vector<Tic> tics;
    for (const auto& [m, e] : majors) tics.push_back({m * std::pow(10.0, e), decimal_label(m, e, exponents)});
    if (mantissas.size() <= 2)
        for (int e = first; e <= last; ++e)
            for (int m = 1; m <= 9; ++m) {
                const bool major =
                    multiple(e, decade_step) && std::find(mantissas.begin(), mantissas.end(), m) != mantissas.end();
                const double v = m * std::pow(10.0, e);
                if (!major && inside(v) && (decade_step == 1 || m == 1)) tics.push_back({v, {"", ""}, true});
            }
    std::sort(tics.begin(), tics.end(), [](const Tic& a, const Tic& b) { return a.at < b.at; });
    return tics;
}

std::vector<Tic> decimal_tics(double lo, double hi, Extent extent) {
    std::vector<std::vector<Tic>> candidates;
    for (int step : {10, 5, 3, 2, 1}) candidates.push_back(decimal_candidate(lo, hi, {1}, step));
    for (const std::vector<double>& mantissas :
         std::vector<std::vector<double>>{{1, 3}, {1, 2, 5}, {1, 1.5, 2, 3, 5, 7}})
        candidates.push_back(decimal_candidate(lo, hi, mantissas, 1));
    return choose(candidates, lo, hi, extent, 4);
}

// The range covers the values with a margin and, where it can, two labelled tics.
Axis log_axis(const std::vector<double>& values, Scale scale, Text title, Extent extent) {
    Axis axis;
    axis.title = std::move(title);
    const auto [min, max] = std::minmax_element(values.begin(), values.end());
    const double pad = std::max(1.25, std::pow(*max / *min, 0.06));
    axis.lo = *min / pad;
    axis.hi = *max * pad;
    for (int attempt = 0; attempt < 2; ++attempt) {
        axis.tics = scale == Scale::decimal ? decimal_tics(axis.lo, axis.hi, extent)
                                            : binary_tics(axis.lo, axis.hi, scale, extent);
        if (labelled(axis.tics) >= 2) break;
        const double base = scale == Scale::decimal ? 10 : 2;  // widen to the enclosing powers
        axis.lo = std::pow(base, std::floor(std::log(axis.lo) / std::log(base) + 1e-9));
        axis.hi = std::pow(base, std::ceil(std::log(axis.hi) / std::log(base) - 1e-9));
    }
    return axis;
}

// n axis: the study's own n values when they can all be labelled (even a single one).
Axis tokens_axis(const std::vector<double>& values, Text title, Extent extent) {
    Axis axis = log_axis(values, Scale::tokens, std::move(title), extent);
    const std::set<double> distinct(values.begin(), values.end());
    std::vector<Tic> own;
    for (double n : distinct) own.push_back({n, literal(format("%.0f", n))});
    if (legible(own, axis.lo, axis.hi, extent)) axis.tics = own;
    return axis;
}

// Defines <axis>lo and <axis>hi (scripts use them for reference lines), range, tics and label.
std::string axis_commands(const std::string& name, const Axis& axis) {
    std::string tics;
    for (const Tic& tic : axis.tics)
        tics +=
            (tics.empty() ? "" : ", ") + gp_text(tic.label) + " " + format("%.12g", tic.at) + (tic.minor ? " 1" : "");
    return name + "lo = " + format("%.12g", axis.lo) + "; " + name + "hi = " + format("%.12g", axis.hi) + "\n" +
           "set logscale " + name + "\n" + "set " + name + "range [" + name + "lo:" + name + "hi]\n" + "set " + name +
           "tics (" + tics + ")\n" + "set " + name + "label " + gp_text(axis.title) + " noenhanced\n";
}

const Labels kDecodeLabels{"", literal("time per decode step [ms]"), literal("resident cache memory [bytes]"),
                           {"context length n [tokens]", "context length $n$ [tokens]"}, "time per decode step"};
const Labels kVarStepLabels{"var-", literal("time per scale step [ms]"), literal("resident cache memory [bytes]"),
                            {"tokens after the scale step", "tokens after the scale step"}, "time per VAR scale step"};
const Labels kVarGenerationLabels{"var-", literal("time per generation [ms]"),
                                  literal("peak resident cache memory [bytes]"),
                                  {"tokens generated", "tokens generated"}, "time per VAR generation"};
const Text kErrorTitle = {"relative error ‖o − o*‖ / ‖o*‖", "relative error $\\|o-o^*\\|/\\|o^*\\|$"};

// ─── Scripts ─────────────────────────────────────────────────────────────────────────────────

// Output formats: the script's `fmt` value is also the file extension. Sizes are physical
// (inches, points) and each terminal's units are measured once here, so that every format
// looks alike: FS is the terminal's font unit per point of true size (cairo sets text at 96
// dpi), VC and HC are gnuplot's line height and character width estimates per point of font.
// tikz takes the LaTeX document's font face.
struct Format {
    const char* fmt;
    const char* units;     // gnuplot statements setting FS, VC, HC and FACE
    const char* terminal;  // gnuplot expression giving the `set terminal` command
};
constexpr std::array<Format, 4> kFormats{{
    {"png", "FS = DPI/96.0; VC = 0.87; HC = 0.48; FACE = FONTFACE",
     "sprintf(\"set terminal pngcairo size %d,%d font '%s,%g' linewidth %g pointscale %g\", "
     "int(W*DPI), int(H*DPI), FACE, FONT*FS, LW*DPI/144.0, DPI/72.0)"},
    {"pdf", "FS = 0.75; VC = 0.87; HC = 0.48; FACE = FONTFACE",
     "sprintf(\"set terminal pdfcairo size %gin,%gin font '%s,%g' fontscale 1 linewidth %g\", W, H, FACE, FONT*FS, "
     "LW)"},
    {"svg", "FS = 96/72.0; VC = 1.29; HC = 0.62; FACE = FONTFACE",
     "sprintf(\"set terminal svg size %d,%d font '%s,%g' linewidth %g background rgb 'white'\", "
     "int(W*96), int(H*96), FACE, FONT*FS, LW*96/144.0)"},
    {"tex", "FS = 1; VC = 0.91; HC = 0.50; FACE = ''",
     "sprintf(\"set terminal tikz size %gin,%gin font ',%g' linewidth %g\", W, H, FONT, LW)"},
}};

// A figure is `panels` columns of one panel each: a plot area of kPlotHeightIn (axes, tic
// labels, axis titles) above its key. The key's rows add to the height, so the plot area is the
// same in every study.
constexpr double kPlotHeightIn = 2.5;

struct Canvas {
    int panels = 1;
    std::size_t key_entries = 0;  // in the longest key
    double key_em = 0;            // the widest key entry's text [em]
    double key_chars = 0;         // the longest key entry [characters], as gnuplot counts them
};

// Extents of a panel's axes, for tic spacing (the margins hold tic labels and axis titles).
Extent x_extent() { return {kColumnIn - 0.7, true}; }
Extent y_extent() { return {kPlotHeightIn - 0.45, false}; }

// What the scripts need to lay out the keys: `keys` holds each panel's titles.
Canvas canvas_for(const std::vector<std::vector<std::string>>& keys) {
    Canvas canvas{int(keys.size())};
    for (const std::vector<std::string>& titles : keys) {
        canvas.key_entries = std::max(canvas.key_entries, titles.size());
        for (const std::string& title : titles) {
            canvas.key_em = std::max(canvas.key_em, text_em(title));
            canvas.key_chars = std::max(canvas.key_chars, code_points(title));
        }
    }
    return canvas;
}

// Picks the terminal from `fmt`, lays out the canvas and sets the look shared by all figures.
std::string terminal_and_style() {
    std::string s, names;
    for (const Format& f : kFormats) names += std::string(names.empty() ? "" : " ") + f.fmt;
    s += "if (strstrt(' " + names + " ', ' ' . fmt . ' ') == 0) { exit error \"fmt must be one of: " + names + "\" }\n";
    s += "# FS: font unit per point; VC, HC: gnuplot's line height and character width per point\n";
    for (const Format& f : kFormats) s += "if (fmt eq '" + std::string(f.fmt) + "') { " + f.units + " }\n";
    s += "# Keys below their panels: columns as wide as the widest entry's sample, text and a gap, as\n"
         "# many as fit; the figure grows by the key's rows, so the plot area stays PLOTH high.\n"
         "KEYPITCH = 1.5 * FONT + (KEYEM + 1.2) * KEYFONT                # key column width [pt]\n"
         "KEYCOLS = floor((W / PANELS - 0.1) * 72 / KEYPITCH)\n"
         "KEYCOLS = KEYCOLS < 1 ? 1 : (KEYCOLS > 3 ? 3 : KEYCOLS)\n"
         "KEYROWS = KEYENTRIES < 1 ? 1 : int(ceil(KEYENTRIES / real(KEYCOLS)))\n"
         "KEYWIDTH = ceil(KEYPITCH / (HC * FONT) - KEYCHARS - 4)         # the width in gnuplot's terms\n"
         "KEYH = KEYROWS * 1.15 * VC * FONT / 72.0 + 0.06                # key height [in]\n"
         "XLABH = 3.7 * VC * FONT / 72.0 + 0.04                         # x tic labels and axis title [in]\n"
         "H = PLOTH + KEYH\n";
    for (const Format& f : kFormats) s += "if (fmt eq '" + std::string(f.fmt) + "') { eval " + f.terminal + " }\n";
    s += "here = ARG0; i = strlen(here)\n"
         "while (i > 0 && here[i:i] ne '/') { i = i - 1 }\n"
         "if (i > 0) { cd here[1:i] }\n"
         "set output out\n"
         "set encoding utf8\n"
         "tex = (fmt eq 'tex')\n"
         "T(plain, latex) = tex ? latex : plain\n\n"
         "set datafile separator comma\n"
         "set pointsize PS\n"
         "set key center top Left reverse vertical maxrows KEYROWS samplen 2 spacing 1.15 width KEYWIDTH\n"
         "eval sprintf(\"set key font '%s,%g'\", FACE, KEYFONT*FS)\n\n";
    return s;
}

// A script variable, one that `gnuplot -e "NAME=…"` may override unless `fixed`.
std::string setting(const std::string& name, const std::string& value, const std::string& comment, bool fixed = false) {
    const std::string line = (fixed ? "" : "if (!exists(\"" + name + "\")) ") + name + " = " + value;
    return line + std::string(line.size() < 42 ? 42 - line.size() : 1, ' ') + "# " + comment + "\n";
}

// The script's header: how to rerun it, and every size and font as a variable to restyle.
std::string preamble(const std::string& name, const std::string& what, const Canvas& canvas) {
    std::string s = "# " + name + ".gp: " + what + "\n";
    s += "# Generated by trikv (studies/figures.cpp); edit freely. Reads " + name +
         ".csv, which holds\n"
         "# exactly the data drawn. Redraw from any directory (outputs go next to this file):\n"
         "#   gnuplot -e \"fmt='pdf'\" " +
         name +
         ".gp     fmt: png (default) | pdf | svg | tex (tikz)\n"
         "# Any setting below can be given the same way, e.g. -e \"fmt='pdf'; FONT=8; out='x.pdf'\".\n"
         "# LaTeX: \\usepackage{gnuplot-lua-tikz}, then \\input{" +
         name +
         ".tex}.\n"
         "# Tic positions and ranges were computed from the data.\n\n";
    s += setting("fmt", "'png'", "png | pdf | svg | tex");
    s += setting("out", "'" + name + ".' . fmt", "output file");
    s += setting("W", number(kColumnIn * canvas.panels),
                 canvas.panels == 1 ? "width [in]: one column" : "width [in]: two columns (figure*), a panel each");
    s += setting("PLOTH", number(kPlotHeightIn), "plot area with tic labels and axis titles [in]");
    s += setting("FONT", number(kFontPt), "text size [pt]");
    s += setting("KEYFONT", number(kKeyFontPt), "key text size [pt]");
    s += setting("FONTFACE", "'Helvetica'", "tikz uses the document's font");
    s += setting("LW", "1", "line width scale");
    s += setting("PS", "0.6", "marker size scale");
    s += setting("DPI", "300", "png resolution");
    s += setting("PANELS", std::to_string(canvas.panels), "side by side", true);
    s += setting("KEYENTRIES", std::to_string(canvas.key_entries), "in the longest key", true);
    s += setting("KEYEM", format("%.2f", canvas.key_em), "widest key text [em]", true);
    s += setting("KEYCHARS", number(canvas.key_chars), "longest key text [characters]", true);
    return s + "\n" + terminal_and_style();
}

std::string column(const std::string& name) { return "(column('" + name + "'))"; }

std::string kind_is(const std::string& kind) { return "strcol('kind') eq '" + kind + "'"; }

// A data column where `condition` holds, NaN (not drawn, breaks lines) elsewhere.
std::string where(const std::string& condition, const std::string& name) {
    return "(" + condition + " ? " + column(name) + " : NaN)";
}

// One untitled plot clause; the key is drawn by keyentry clauses (Legend).
std::string clause(const std::string& csv, const std::string& using_spec, const std::string& with) {
    return gp_quote(csv) + " using " + using_spec + " with " + with + " notitle";
}

std::string coloured(const std::string& with, std::string_view colour) {
    return with + " lc rgb '" + std::string(colour) + "'";
}

std::string point_style(const Style& style, bool faded = false) {
    return coloured("points pt " + std::to_string(style.point), faded ? style.faded : style.colour);
}

std::string line_style(const Style& style) {
    return coloured("linespoints pt " + std::to_string(style.point) + " dt " + std::to_string(style.dash) + " lw 1.2",
                    style.colour);
}

struct Legend {
    std::vector<std::string> entries, titles;
    void add(const std::string& style, const Text& title) {
        entries.push_back("keyentry with " + style + " title " + gp_text(title) + " noenhanced");
        titles.push_back(title.plain);
    }
};

// One panel of a figure: its axes, data clauses and key.
struct Panel {
    Axis x, y;
    std::vector<std::string> clauses;
    Legend legend;
};

std::string plot(const std::vector<std::string>& clauses) {
    std::string s = "plot ";
    for (std::size_t i = 0; i < clauses.size(); ++i) s += (i ? ", \\\n     " : "") + clauses[i];
    return s + "\n";
}

// Panel `panel`'s plot area: its column of the figure above the key, framed and gridded.
std::string panel_frame(int panel) {
    return "set origin " + number(panel) + ".0 / PANELS, 0; set size 1.0 / PANELS, 1\n"
           "unset lmargin; unset rmargin; unset tmargin; set bmargin at screen (KEYH + XLABH) / H\n"
           "set border 31 lw 0.8\n"
           "set tics scale 0.8, 0.45\n"
           "set grid xtics ytics back lt 1 lw 0.5 lc rgb '#e4e4e4'\n";
}

// The key of panel `panel` goes under it, drawn as a plot of its own whose area is exactly the
// key's: gnuplot wraps a key into more columns when its rows outgrow the plot area, and below
// a panel's data that wrap ran off the figure's edge or into the next panel's key.
std::string panel_key(int panel, const Legend& legend) {
    std::vector<std::string> clauses = {"NaN notitle"};
    clauses.insert(clauses.end(), legend.entries.begin(), legend.entries.end());
    const std::string left = number(panel) + ".0 / PANELS", right = number(panel + 1) + ".0 / PANELS";
    return "set lmargin at screen " + left + "; set rmargin at screen " + right +
           "; set bmargin at screen 0; set tmargin at screen KEYH / H\n"
           "unset border; unset tics; unset grid; unset logscale; unset xlabel; unset ylabel\n"
           "set xrange [0:1]; set yrange [0:1]\n"
           "set key at screen " + number(panel + 0.5) + " / PANELS, screen KEYH / H\n" + plot(clauses);
}

// The whole script: preamble, then each panel side by side with its key below it.
std::string figure_script(const std::string& name, const std::string& what, const std::vector<Panel>& panels) {
    std::vector<std::vector<std::string>> keys;
    for (const Panel& panel : panels) keys.push_back(panel.legend.titles);
    const Canvas canvas = canvas_for(keys);
    std::string s = preamble(name, what, canvas);
    s += "set multiplot\n";
    for (std::size_t p = 0; p < panels.size(); ++p)
        s += "\n" + panel_frame(int(p)) + axis_commands("x", panels[p].x) + axis_commands("y", panels[p].y) +
             plot(panels[p].clauses) + panel_key(int(p), panels[p].legend);
    return s + "unset multiplot\n";
}

std::vector<double> values_of(const Study& study, const std::vector<std::size_t>& indices,
                              double (*get)(const ResultRow&)) {
    std::vector<double> values;
    for (std::size_t i : indices) values.push_back(get(study.rows[i]));
    return values;
}

std::vector<double> values_of(const Study& study, double (*get)(const ResultRow&)) {
    std::vector<double> values;
    for (const ResultRow& row : study.rows) values.push_back(get(row));
    return values;
}

double time_of(const ResultRow& r) { return r.step_ms_median; }
double bytes_of(const ResultRow& r) { return r.bytes; }
double n_of(const ResultRow& r) { return double(r.n); }

struct Figure {
    std::string name, csv, script;
};

// ─── pareto ──────────────────────────────────────────────────────────────────────────────────

struct Bound {
    const char* kind;
    double scalars_per_nd;  // times n·d·heads (and n again for the quadratic bound)
    bool quadratic;
    const char* dash;
};
constexpr std::array<Bound, 2> kBounds{{{"bound_nd", 4, false, "2"}, {"bound_n2d", 2, true, "4"}}};
constexpr double kBoundWidth = 4;  // float32

Text bound_title(const Bound& bound, bool heads) {
    const std::string h = heads ? "h" : "";
    if (!bound.quadratic)
        return {"seed bound Ω(nd) (4nd" + h + "·4B)", "seed bound $\\Omega(nd)$ ($4nd" + h + "\\cdot4$\\,B)"};
    return {"seed bound Ω(n²d) (2n²d" + h + "·4B)", "seed bound $\\Omega(n^2d)$ ($2n^2d" + h + "\\cdot4$\\,B)"};
}

double bound_bytes(const Bound& bound, std::size_t n, std::size_t d, std::size_t heads) {
    return bound.scalars_per_nd * double(n) * double(d) * double(heads) * (bound.quadratic ? double(n) : 1) *
           kBoundWidth;
}

// One (workload, n, d, heads) group: its rows, front first and by memory (so that the front
// is one unbroken line), then the dominated ones.
struct FrontGroup {
    const ResultRow* first;  // the group's configuration
    std::vector<std::size_t> rows;
    std::size_t front_size = 0;
};

std::vector<FrontGroup> front_groups(const Study& study) {
    std::map<std::tuple<std::string, std::size_t, std::size_t, std::size_t>, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < study.rows.size(); ++i) {
        const ResultRow& r = study.rows[i];
        members[{r.workload, r.n, r.d, r.heads}].push_back(i);
    }
    std::vector<FrontGroup> groups;
    for (const auto& [key, indices] : members) {
        std::vector<ResultRow> exact;
        std::vector<std::size_t> exact_index;
        for (std::size_t i : indices)
            if (study.rows[i].rel_l2_error <= kExactTolerance && !is_matrix_baseline(study.rows[i]))
                exact.push_back(study.rows[i]), exact_index.push_back(i);
        std::set<std::size_t> front;
        for (std::size_t k : time_memory_front(exact)) front.insert(exact_index[k]);
        FrontGroup group{&study.rows[indices.front()], indices, front.size()};
        std::stable_sort(group.rows.begin(), group.rows.end(), [&](std::size_t a, std::size_t b) {
            return std::make_tuple(!front.count(a), study.rows[a].bytes) <
                   std::make_tuple(!front.count(b), study.rows[b].bytes);
        });
        groups.push_back(std::move(group));
    }
    return groups;
}

std::vector<const Dimension*> group_dimensions(const std::vector<FrontGroup>& groups) {
    std::vector<const ResultRow*> firsts;
    for (const FrontGroup& group : groups) firsts.push_back(group.first);
    return varying({"n", "d", "heads", "workload"}, firsts);
}

// " of each n" (or "n, d", ...); empty for a single group.
std::string front_title_suffix(const std::vector<FrontGroup>& groups) {
    std::string names;
    for (const Dimension* dimension : group_dimensions(groups))
        names += (names.empty() ? "" : ", ") + std::string(dimension->name);
    return names.empty() ? "" : " of each " + names;
}

// A panel's plot area in inches from its lower left corner, for placing text.
struct Frame {
    Axis x, y;
    Extent width = x_extent(), height = y_extent();
    static double to_in(double v, const Axis& a, const Extent& e) {
        return e.length_in * std::log(v / a.lo) / std::log(a.hi / a.lo);
    }
    static double from_in(double in, const Axis& a, const Extent& e) {
        return a.lo * std::pow(a.hi / a.lo, in / e.length_in);
    }
    std::pair<double, double> inches(double vx, double vy) const { return {to_in(vx, x, width), to_in(vy, y, height)}; }
    std::pair<double, double> values(double ix, double iy) const {
        return {from_in(ix, x, width), from_in(iy, y, height)};
    }
};

struct Box {
    double x0, y0, x1, y1;
    bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

struct FrontLabel {
    std::size_t group;
    double x, y;  // centre, data coordinates
    std::string text;
};

using Point = std::pair<double, double>;  // inches
constexpr double kHalfMarkIn = 0.04;

// Where a label of w × h inches may go, best first: above, then below the middle of the
// front's segments (longest first), then around its end points.
std::vector<Point> label_candidates(const std::vector<Point>& front, double w, double h) {
    std::vector<std::size_t> segments(front.size() - 1);
    for (std::size_t k = 0; k < segments.size(); ++k) segments[k] = k;
    auto length = [&](std::size_t k) {
        return std::hypot(front[k + 1].first - front[k].first, front[k + 1].second - front[k].second);
    };
    std::stable_sort(segments.begin(), segments.end(),
                     [&](std::size_t a, std::size_t b) { return length(a) > length(b); });
    std::vector<Point> centres;
    const double gap = 0.02;
    for (std::size_t k : segments) {
        const double mx = (front[k].first + front[k + 1].first) / 2, my = (front[k].second + front[k + 1].second) / 2;
        centres.push_back({mx, my + h / 2 + gap});
        centres.push_back({mx, my - h / 2 - gap});
    }
    for (const auto& [px, py] : {front.front(), front.back()}) {
        centres.push_back({px, py + kHalfMarkIn + h / 2});
        centres.push_back({px + kHalfMarkIn + w / 2, py});
        centres.push_back({px - kHalfMarkIn - w / 2, py});
        centres.push_back({px, py - kHalfMarkIn - h / 2});
    }
    return centres;
}

// Labels each front ("n=512") at the first candidate place inside the plot that overlaps
// neither a point nor another label (or at the first candidate, if none is free).
std::vector<FrontLabel> place_front_labels(const Study& study, const std::vector<FrontGroup>& groups,
                                           const Frame& frame) {
    std::vector<FrontLabel> labels;
    if (groups.size() < 2) return labels;
    const auto dimensions = group_dimensions(groups);
    std::vector<Box> taken;
    for (const ResultRow& r : study.rows) {
        const auto [px, py] = frame.inches(r.bytes, r.step_ms_median);
        taken.push_back({px - kHalfMarkIn, py - kHalfMarkIn, px + kHalfMarkIn, py + kHalfMarkIn});
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const FrontGroup& group = groups[g];
        if (group.front_size == 0) continue;
        const std::string text = describe(*group.first, dimensions, " ").substr(1);
        const double w = text_em(text) * kKeyFontPt / 72 + 0.03, h = 1.2 * kKeyFontPt / 72;
        std::vector<Point> front;
        for (std::size_t k = 0; k < group.front_size; ++k)
            front.push_back(frame.inches(study.rows[group.rows[k]].bytes, study.rows[group.rows[k]].step_ms_median));
        auto box = [&](const Point& c) {
            return Box{c.first - w / 2, c.second - h / 2, c.first + w / 2, c.second + h / 2};
        };
        auto free = [&](const Point& c) {
            const Box b = box(c);
            return b.x0 >= 0 && b.y0 >= 0 && b.x1 <= frame.width.length_in && b.y1 <= frame.height.length_in &&
                   std::none_of(taken.begin(), taken.end(), [&](const Box& t) { return b.overlaps(t); });
        };
        const std::vector<Point> centres = label_candidates(front, w, h);
        const auto chosen = std::find_if(centres.begin(), centres.end(), free);
        const Point centre = chosen == centres.end() ? centres.front() : *chosen;
        taken.push_back(box(centre));
        const auto [vx, vy] = frame.values(centre.first, centre.second);
        labels.push_back({g, vx, vy, text});
    }
    return labels;
}

// The `front` column of pareto.csv: dominated points are drawn faded, front points solid and
// joined, the matrix baseline solid but never joined (it is not on the tensor fronts).
enum class FrontClass { dominated = 0, front = 1, baseline = 2 };

FrontClass front_class(const FrontGroup& group, std::size_t k, const ResultRow& row) {
    if (k < group.front_size) return FrontClass::front;
    return is_matrix_baseline(row) ? FrontClass::baseline : FrontClass::dominated;
}

std::string pareto_csv(const Study& study, const std::vector<FrontGroup>& groups, const std::vector<FrontLabel>& labels,
                       bool heads) {
    std::string csv = csv_line({"kind", "series", "group", "front", "n", "d", "heads", "bytes", "step_ms",
                                "rel_l2_error", "workload", "cache", "label"});
    for (std::size_t g = 0; g < groups.size(); ++g)
        for (std::size_t k = 0; k < groups[g].rows.size(); ++k) {
            const std::size_t i = groups[g].rows[k];
            const ResultRow& r = study.rows[i];
            csv += csv_line({"point", std::to_string(study.series_of[i]), std::to_string(g),
                             std::to_string(int(front_class(groups[g], k, r))), std::to_string(r.n), std::to_string(r.d),
                             std::to_string(r.heads), number(r.bytes), number(r.step_ms_median), number(r.rel_l2_error),
                             r.workload, r.cache, study.series[study.series_of[i]].label.plain});
        }
    for (const FrontLabel& label : labels) {
        const ResultRow& r = *groups[label.group].first;
        csv += csv_line({"front_label", "", std::to_string(label.group), "", std::to_string(r.n), std::to_string(r.d),
                         std::to_string(r.heads), number(label.x), number(label.y), "", r.workload, "", label.text});
    }
    std::set<std::tuple<std::size_t, std::size_t, std::size_t>> configs;  // n, d, heads
    for (const FrontGroup& group : groups) configs.insert({group.first->n, group.first->d, group.first->heads});
    for (const Bound& bound : kBounds)
        for (const auto& [n, d, h] : configs)
            csv += csv_line({bound.kind, "", "", "", std::to_string(n), std::to_string(d), std::to_string(h),
                             number(bound_bytes(bound, n, d, h)), "", "", "", "", bound_title(bound, heads).plain});
    return csv;
}

std::vector<std::string> pareto_clauses(const Study& study, const std::vector<FrontGroup>& groups, bool labelled) {
    const std::string csv = study.labels.prefix + "pareto.csv", point = kind_is("point");
    std::vector<std::string> clauses;
    for (const Bound& bound : kBounds)
        clauses.push_back(clause(csv, where(kind_is(bound.kind), "bytes") + ":(ylo):(0):(yhi - ylo)",
                                 coloured("vectors nohead dt " + std::string(bound.dash) + " lw 1", kBoundGrey)));
    for (std::size_t g = 0; g < groups.size(); ++g)
        if (groups[g].front_size > 0)
            clauses.push_back(clause(
                csv,
                where(point + " && column('group') == " + std::to_string(g) + " && column('front') == 1", "bytes") +
                    ":" + column("step_ms"),
                coloured("lines lw 1.2", kLineGrey)));
    if (labelled)
        clauses.push_back(
            clause(csv, where(kind_is("front_label"), "bytes") + ":" + column("step_ms") + ":(strcol('label'))",
                   "labels center font sprintf(',%g', KEYFONT*FS) textcolor rgb '" + std::string(kLineGrey) + "'"));
    for (const FrontClass front : {FrontClass::dominated, FrontClass::front, FrontClass::baseline})  // faded first
        for (std::size_t s = 0; s < study.series.size(); ++s) {
            const bool present = std::any_of(groups.begin(), groups.end(), [&](const FrontGroup& g) {
                for (std::size_t k = 0; k < g.rows.size(); ++k)
                    if (study.series_of[g.rows[k]] == s && front_class(g, k, study.rows[g.rows[k]]) == front) return true;
                return false;
            });
            if (!present) continue;
            const std::string selected = point + " && column('series') == " + std::to_string(s) +
                                         " && column('front') == " + std::to_string(int(front));
            clauses.push_back(clause(csv, where(selected, "bytes") + ":" + column("step_ms"),
                                     point_style(study.series[s].style, front == FrontClass::dominated)));
        }
    return clauses;
}

std::optional<Figure> pareto_figure(const Study& study, std::vector<std::string>&) {
    const std::vector<FrontGroup> groups = front_groups(study);
    const bool heads =
        std::any_of(study.rows.begin(), study.rows.end(), [](const ResultRow& r) { return r.heads != 1; });

    std::vector<double> xs = values_of(study, bytes_of);
    for (const FrontGroup& group : groups)
        for (const Bound& bound : kBounds)
            xs.push_back(bound_bytes(bound, group.first->n, group.first->d, group.first->heads));
    const Frame frame{log_axis(xs, Scale::bytes, study.labels.memory, x_extent()),
                      log_axis(values_of(study, time_of), Scale::decimal, study.labels.time, y_extent())};
    const std::vector<FrontLabel> labels = place_front_labels(study, groups, frame);

    Panel panel{frame.x, frame.y, pareto_clauses(study, groups, !labels.empty()), {}};
    for (const Series& series : study.series) panel.legend.add(point_style(series.style), series.label);
    if (std::any_of(groups.begin(), groups.end(), [](const FrontGroup& g) { return g.front_size > 0; }))
        panel.legend.add(coloured("lines lw 1.2", kLineGrey),
                         literal("exact Pareto front" + front_title_suffix(groups)));
    const auto has_dominated = [&](const FrontGroup& g) {
        for (std::size_t k = 0; k < g.rows.size(); ++k)
            if (front_class(g, k, study.rows[g.rows[k]]) == FrontClass::dominated) return true;
        return false;
    };
    if (std::any_of(groups.begin(), groups.end(), has_dominated))
        panel.legend.add(coloured("points pt 7", kFadedGrey), literal("dominated (faded)"));
    for (const Bound& bound : kBounds)
        panel.legend.add(coloured("lines dt " + std::string(bound.dash) + " lw 1", kBoundGrey),
                         bound_title(bound, heads));

    const std::string name = study.labels.prefix + "pareto";
    return Figure{name, pareto_csv(study, groups, labels, heads),
                  figure_script(name, study.labels.time_words + " vs resident cache memory, with exact Pareto fronts",
                                {panel})};
}

// ─── scaling ─────────────────────────────────────────────────────────────────────────────────

// Least-squares slope of log(y) on log(x); needs two distinct x.
std::optional<double> loglog_slope(const std::vector<double>& x, const std::vector<double>& y) {
    if (std::set<double>(x.begin(), x.end()).size() < 2) return std::nullopt;
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mx += std::log(x[i]), my += std::log(y[i]);
    mx /= double(x.size());
    my /= double(y.size());
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
        sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
    }
    return sxy / sxx;
}

Text with_slope(const Text& label, std::optional<double> slope) {
    if (!slope) return label;
    const std::string text = " (slope " + format("%.2f", *slope) + ")";
    return {label.plain + text, label.tex + text};
}

struct ScalingQuantity {
    const char* column;
    double (*get)(const ResultRow&);
    Scale scale;
    Text Labels::*title;
};
const std::array<ScalingQuantity, 2> kScalingQuantities{
    {{"step_ms", time_of, Scale::decimal, &Labels::time}, {"bytes", bytes_of, Scale::bytes, &Labels::memory}}};

// Per series, the slope of each quantity against n.
std::vector<std::array<std::optional<double>, 2>> scaling_slopes(const Study& study) {
    std::vector<std::array<std::optional<double>, 2>> slopes;
    for (const Series& series : study.series) {
        const std::vector<double> n = values_of(study, series.rows, n_of);
        slopes.push_back({loglog_slope(n, values_of(study, series.rows, kScalingQuantities[0].get)),
                          loglog_slope(n, values_of(study, series.rows, kScalingQuantities[1].get))});
    }
    return slopes;
}

std::string scaling_csv(const Study& study, const std::vector<std::array<std::optional<double>, 2>>& slopes) {
    auto text = [](std::optional<double> slope) { return slope ? number(*slope) : std::string(); };
    std::string csv =
        csv_line({"series", "n", "d", "heads", "step_ms", "bytes", "time_slope", "memory_slope", "cache", "label"});
    for (std::size_t s = 0; s < study.series.size(); ++s)
        for (std::size_t i : study.series[s].rows) {
            const ResultRow& r = study.rows[i];
            csv += csv_line({std::to_string(s), std::to_string(r.n), std::to_string(r.d), std::to_string(r.heads),
                             number(r.step_ms_median), number(r.bytes), text(slopes[s][0]), text(slopes[s][1]), r.cache,
                             study.series[s].label.plain});
        }
    return csv;
}

std::optional<Figure> scaling_figure(const Study& study, std::vector<std::string>&) {
    const auto slopes = scaling_slopes(study);
    const Axis n_axis = tokens_axis(values_of(study, n_of), study.labels.tokens, x_extent());
    std::vector<Panel> panels;
    for (std::size_t q = 0; q < kScalingQuantities.size(); ++q) {
        const ScalingQuantity& quantity = kScalingQuantities[q];
        Panel panel{
            n_axis, log_axis(values_of(study, quantity.get), quantity.scale, study.labels.*quantity.title, y_extent()), {}, {}};
        for (std::size_t s = 0; s < study.series.size(); ++s) {
            const Series& series = study.series[s];
            panel.clauses.push_back(clause(
                study.labels.prefix + "scaling.csv", where("column('series') == " + std::to_string(s), "n") + ":" + column(quantity.column),
                line_style(series.style)));
            panel.legend.add(line_style(series.style), with_slope(series.label, slopes[s][q]));
        }
        panels.push_back(std::move(panel));
    }
    const std::string name = study.labels.prefix + "scaling";
    return Figure{name, scaling_csv(study, slopes),
                  figure_script(name, study.labels.time_words + " and resident memory vs tokens", panels)};
}

// ─── sparsity ────────────────────────────────────────────────────────────────────────────────

// One curve of the sparsity figure: a sparse layout under one support, or a dense cache (its
// resident memory the same at every s and support), drawn as a flat reference at that memory
// and at its median time, its measured points faded around it.
struct SparsitySeries {
    std::string type;
    Text label;
    Style style;
    bool dense = false;
    std::vector<std::size_t> rows;  // into the figure's rows, by s
    double reference_ms = 0, reference_bytes = 0;
};

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t m = values.size() / 2;
    return values.size() % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
}

// Series of the sparse rows at one n, sparse layouts first (random support first), then the
// dense references, each group in the style table's order.
std::vector<SparsitySeries> sparsity_series(const std::vector<ResultRow>& rows, const std::vector<Sparsity>& sparsity) {
    std::vector<const ResultRow*> pointers;
    for (const ResultRow& row : rows) pointers.push_back(&row);
    const auto dimensions = varying({"workload", "dtype", "d", "heads"}, pointers);
    std::map<std::string, std::vector<std::size_t>> by_spec;  // cache label -> rows
    for (std::size_t i = 0; i < rows.size(); ++i)
        by_spec[display_spec(rows[i].cache) + describe(rows[i], dimensions, ", ")].push_back(i);

    std::vector<SparsitySeries> series;
    for (const auto& [label, indices] : by_spec) {
        const std::string& type = rows[indices.front()].cache_type;
        const double first_bytes = rows[indices.front()].bytes;  // clang 14 cannot capture a structured binding
        const bool dense = std::all_of(indices.begin(), indices.end(),
                                       [&](std::size_t i) { return rows[i].bytes == first_bytes; });
        if (dense) {
            SparsitySeries reference{type, literal(label + " (dense)"), {}, true, indices};
            std::vector<double> times;
            for (std::size_t i : indices) times.push_back(rows[i].step_ms_median);
            reference.reference_ms = median(times);
            reference.reference_bytes = rows[indices.front()].bytes;
            series.push_back(std::move(reference));
            continue;
        }
        std::map<std::string, std::vector<std::size_t>> by_support;
        for (std::size_t i : indices) by_support[sparsity[i].support].push_back(i);
        for (const auto& [support, members] : by_support)
            series.push_back({type, literal(label + ", " + support + " support"), {}, false, members});
    }
    auto rank = [&](const SparsitySeries& s) {
        const bool random = !s.dense && sparsity[s.rows.front()].support == "random";
        return std::make_tuple(s.dense, type_rank(s.type), s.type, !random);
    };
    std::stable_sort(series.begin(), series.end(),
                     [&](const SparsitySeries& a, const SparsitySeries& b) { return rank(a) < rank(b); });
    std::map<std::string, std::size_t> variants;  // per type
    for (SparsitySeries& s : series) {
        s.style = style_of(s.type, variants[s.type]++);
        std::stable_sort(s.rows.begin(), s.rows.end(),
                         [&](std::size_t a, std::size_t b) { return sparsity[a].s < sparsity[b].s; });
    }
    return series;
}

std::string sparsity_csv(const std::vector<ResultRow>& rows, const std::vector<Sparsity>& sparsity,
                         const std::vector<SparsitySeries>& series) {
    std::string csv = csv_line({"kind", "series", "dense", "s", "support", "n", "d", "heads", "step_ms", "bytes",
                                "cache", "label"});
    for (std::size_t k = 0; k < series.size(); ++k) {
        const std::string dense = series[k].dense ? "1" : "0";
        for (std::size_t i : series[k].rows) {
            const ResultRow& r = rows[i];
            csv += csv_line({"point", std::to_string(k), dense, std::to_string(sparsity[i].s), sparsity[i].support,
                             std::to_string(r.n), std::to_string(r.d), std::to_string(r.heads),
                             number(r.step_ms_median), number(r.bytes), r.cache, series[k].label.plain});
        }
        if (series[k].dense) {
            const ResultRow& r = rows[series[k].rows.front()];
            csv += csv_line({"reference", std::to_string(k), dense, "", "", std::to_string(r.n), std::to_string(r.d),
                             std::to_string(r.heads), number(series[k].reference_ms),
                             number(series[k].reference_bytes), r.cache, series[k].label.plain});
        }
    }
    return csv;
}

// Time and memory vs the non-zeros per row s, log-log (the sparse layouts' memory grows as s
// and s², their work as s: straight lines of readable slope), at the study's largest n.
std::optional<Figure> sparsity_figure(const Study& study, std::vector<std::string>& notes) {
    const std::string name = study.labels.prefix + "sparsity";
    std::set<std::size_t> all_s, all_n;
    for (const ResultRow& r : study.rows)
        if (const auto sparsity = sparsity_of(r.data)) all_s.insert(sparsity->s), all_n.insert(r.n);
    if (all_s.size() < 2) {
        notes.push_back(name + ": skipped: needs sparse data (data.kind = \"sparse\") with two or more values of " +
                        "data.nonzeros among the ok rows");
        return std::nullopt;
    }
    const std::size_t n = *all_n.rbegin();
    std::vector<ResultRow> rows;
    std::vector<Sparsity> sparsity;
    for (const ResultRow& r : study.rows) {
        const auto parsed = sparsity_of(r.data);
        if (parsed && r.n == n) rows.push_back(r), sparsity.push_back(*parsed);
    }
    if (all_n.size() > 1) {
        std::string others;
        for (std::size_t other : all_n)
            if (other != n) others += (others.empty() ? "" : ", ") + std::to_string(other);
        notes.push_back(name + ": drawn at the largest n = " + std::to_string(n) + "; n = " + others +
                        " are in results.csv and the scaling figure");
    }
    const std::vector<SparsitySeries> series = sparsity_series(rows, sparsity);

    std::set<std::size_t> ds;
    for (const ResultRow& r : rows) ds.insert(r.d);
    std::vector<double> s_values;
    for (const Sparsity& p : sparsity) s_values.push_back(double(p.s));
    const std::string of_d = ds.size() == 1 ? "of d = " + std::to_string(*ds.begin()) + ", " : "";
    const std::string tokens = study.labels.prefix.empty() ? "n = " + std::to_string(n) : std::to_string(n) + " tokens";
    const Text s_title{"non-zeros s per key and value row (" + of_d + tokens + ")",
                       "non-zeros $s$ per key and value row (" + latex_escape(of_d) + "$" +
                           (study.labels.prefix.empty() ? "n = " + std::to_string(n) + "$" : std::to_string(n) + "$ tokens") +
                           ")"};
    const Axis s_axis = tokens_axis(s_values, s_title, x_extent());
    const std::string csv = name + ".csv";
    std::vector<Panel> panels;
    for (const ScalingQuantity& quantity : kScalingQuantities) {  // the same two panels as scaling
        std::vector<double> ys;
        for (const ResultRow& r : rows) ys.push_back(quantity.get(r));
        Panel panel{s_axis, log_axis(ys, quantity.scale, study.labels.*quantity.title, y_extent()), {}, {}};
        for (std::size_t k = 0; k < series.size(); ++k) {
            const SparsitySeries& curve = series[k];
            const std::string selected = "column('series') == " + std::to_string(k);
            if (curve.dense) {
                panel.clauses.push_back(clause(csv, where(kind_is("point") + " && " + selected, "s") + ":" +
                                                        column(quantity.column),
                                               point_style(curve.style, true)));
                panel.clauses.push_back(clause(csv, "(xlo):" + where(kind_is("reference") + " && " + selected, quantity.column) +
                                                        ":(xhi - xlo):(0)",
                                               coloured("vectors nohead dt 2 lw 1.2", curve.style.colour)));
                panel.legend.add(coloured("lines dt 2 lw 1.2", curve.style.colour), curve.label);
                continue;
            }
            std::vector<double> s, y;
            for (std::size_t i : curve.rows) s.push_back(double(sparsity[i].s)), y.push_back(quantity.get(rows[i]));
            panel.clauses.push_back(clause(csv, where(kind_is("point") + " && " + selected, "s") + ":" +
                                                    column(quantity.column),
                                           line_style(curve.style)));
            panel.legend.add(line_style(curve.style), with_slope(curve.label, loglog_slope(s, y)));
        }
        panels.push_back(std::move(panel));
    }
    return Figure{name, sparsity_csv(rows, sparsity, series),
                  figure_script(name,
                                study.labels.time_words +
                                    " and resident memory vs non-zeros per row, dense caches as flat references",
                                panels)};
}

// ─── error ───────────────────────────────────────────────────────────────────────────────────

// Zero errors cannot sit on a log axis: they are drawn on a floor a quarter of the smallest error.
double error_floor(const Study& study) {
    double smallest = INFINITY;
    for (const ResultRow& r : study.rows)
        if (r.rel_l2_error > 0) smallest = std::min(smallest, r.rel_l2_error);
    return smallest / 4;
}

std::string error_csv(const Study& study, double floor, const Text& floor_title) {
    std::string csv = csv_line(
        {"kind", "series", "exact", "n", "d", "heads", "bytes", "rel_l2_error", "plotted_error", "cache", "label"});
    bool floored = false;
    for (std::size_t s = 0; s < study.series.size(); ++s)
        for (std::size_t i : study.series[s].rows) {
            const ResultRow& r = study.rows[i];
            floored = floored || r.rel_l2_error < floor;
            csv += csv_line({"point", std::to_string(s), r.exact ? "1" : "0", std::to_string(r.n), std::to_string(r.d),
                             std::to_string(r.heads), number(r.bytes), number(r.rel_l2_error),
                             number(std::max(r.rel_l2_error, floor)), r.cache, study.series[s].label.plain});
        }
    if (floored) csv += csv_line({"floor", "", "", "", "", "", "", "0", number(floor), "", floor_title.plain});
    return csv;
}

std::optional<Figure> error_figure(const Study& study, std::vector<std::string>& notes) {
    if (std::none_of(study.rows.begin(), study.rows.end(),
                     [](const ResultRow& r) { return !r.exact && r.rel_l2_error > 0; })) {
        notes.push_back("error: skipped: no approximate cache (exact = false) with rel_l2_error > 0 among the ok rows");
        return std::nullopt;
    }
    const double floor = error_floor(study);
    const Text floor_title = literal("error 0 (drawn at " + short_number(floor) + ")");
    auto plotted = [&](const ResultRow& r) { return std::max(r.rel_l2_error, floor); };
    std::vector<double> ys;
    for (const ResultRow& r : study.rows) ys.push_back(plotted(r));

    Panel panel{log_axis(values_of(study, bytes_of), Scale::bytes, study.labels.memory, x_extent()),
                log_axis(ys, Scale::decimal, kErrorTitle, y_extent()),
                {},
                {}};
    const std::string csv = study.labels.prefix + "error.csv";
    const bool floored =
        std::any_of(study.rows.begin(), study.rows.end(), [&](const ResultRow& r) { return r.rel_l2_error < floor; });
    if (floored)
        panel.clauses.push_back(clause(csv, "(xlo):" + where(kind_is("floor"), "plotted_error") + ":(xhi - xlo):(0)",
                                       coloured("vectors nohead dt 3 lw 1", kBoundGrey)));
    bool any_exact = false;
    for (int exact = 1; exact >= 0; --exact)  // exact (faded) context first, approximate on top
        for (std::size_t s = 0; s < study.series.size(); ++s) {
            const Series& series = study.series[s];
            if (std::none_of(series.rows.begin(), series.rows.end(),
                             [&](std::size_t i) { return study.rows[i].exact == bool(exact); }))
                continue;
            const std::string selected = kind_is("point") + " && column('series') == " + std::to_string(s) +
                                         " && column('exact') == " + std::to_string(exact);
            panel.clauses.push_back(clause(csv, where(selected, "bytes") + ":" + column("plotted_error"),
                                           point_style(series.style, exact)));
            if (exact)
                any_exact = true;
            else
                panel.legend.add(point_style(series.style), series.label);
        }
    if (any_exact) panel.legend.add(coloured("points pt 7", kFadedGrey), literal("exact caches (faded)"));
    if (floored) panel.legend.add(coloured("lines dt 3 lw 1", kBoundGrey), floor_title);

    const std::string name = study.labels.prefix + "error";
    return Figure{name, error_csv(study, floor, floor_title),
                  figure_script(name, "accuracy of the approximate caches vs resident cache memory", {panel})};
}

// ─── Rendering ───────────────────────────────────────────────────────────────────────────────

using Drawer = std::optional<Figure> (*)(const Study&, std::vector<std::string>&);
struct FigureKind {
    const char* name;
    Drawer draw;
};
constexpr std::array<FigureKind, 4> kFigures{{{"pareto", pareto_figure},
                                             {"scaling", scaling_figure},
                                             {"error", error_figure},
                                             {"sparsity", sparsity_figure}}};

bool gnuplot_on_path() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// gnuplot reports `"NAME.gp" line N: message` after echoing the offending command; prefer that line.
std::string error_line(const std::string& output) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < output.size()) {
        const std::size_t end = std::min(output.find('\n', start), output.size());
        std::string line = output.substr(start, end - start);
        if (line.find_first_not_of(" \t\r^") != std::string::npos) lines.push_back(line);
        start = end + 1;
    }
    for (const std::string& line : lines)
        if (line.find(".gp\" line ") != std::string::npos) return line;
    return lines.empty() ? "no message" : lines.front();
}

struct Run {
    int status;
    std::string output;  // gnuplot's stderr
};

// gnuplot -e "fmt='…'; out='…'" NAME.gp, run in `dir`.
Run run_gnuplot(const fs::path& dir, const std::string& script, const std::string& fmt, const std::string& out) {
    const std::string command = "cd " + shell_quote(fs::absolute(dir).string()) + " && gnuplot -e " +
                                shell_quote("fmt='" + fmt + "'; out='" + out + "'") + " " + shell_quote(script) +
                                " 2>&1 >/dev/null </dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return {-1, "cannot start a shell"};
    Run run{0, ""};
    char buffer[4096];
    for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.output.append(buffer, got);
    run.status = ::pclose(pipe);
    return run;
}

// Renders NAME.gp in one format into a temporary file, then renames it into place.
fs::path render(const fs::path& dir, const std::string& name, const Format& format) {
    static std::atomic<unsigned> counter{0};
    const std::string target = name + "." + format.fmt;
    const std::string temporary = "." + target + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    const Run run = run_gnuplot(dir, name + ".gp", format.fmt, temporary);
    std::error_code ignored;
    const bool made = fs::exists(dir / temporary, ignored) && fs::file_size(dir / temporary, ignored) > 0;
    if (run.status != 0 || !made) {
        fs::remove(dir / temporary, ignored);
        const std::string exit = run.status != -1 && WIFEXITED(run.status)
                                     ? "exit status " + std::to_string(WEXITSTATUS(run.status))
                                     : "did not finish";
        throw Error("figure '" + name + "': gnuplot failed making " + target + " (" + exit +
                    "): " + error_line(run.output));
    }
    std::error_code error;
    fs::rename(dir / temporary, dir / target, error);
    if (error) {
        fs::remove(dir / temporary, ignored);
        throw Error((dir / target).string() + ": cannot replace: " + error.message());
    }
    return dir / target;
}

// Writes the figure's data and script, then its renderings when gnuplot is there.
void write_figure(const fs::path& dir, const Figure& figure, bool gnuplot, FigureReport& report) {
    for (const auto& [extension, text] : {std::pair{".csv", &figure.csv}, std::pair{".gp", &figure.script}}) {
        write_file_atomically(dir / (figure.name + extension), *text);
        report.files.push_back(dir / (figure.name + extension));
    }
    if (gnuplot)
        for (const Format& format : kFormats) report.files.push_back(render(dir, figure.name, format));
}

}  // namespace

const std::vector<std::string>& figure_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> list;
        for (const FigureKind& kind : kFigures) list.push_back(kind.name);
        return list;
    }();
    return names;
}

FigureReport write_figures(const fs::path& dir, const std::vector<ResultRow>& rows,
                           const std::vector<std::string>& which) {
    std::vector<const FigureKind*> wanted;
    for (const std::string& name : which) {
        const auto it =
            std::find_if(kFigures.begin(), kFigures.end(), [&](const FigureKind& k) { return name == k.name; });
        if (it == kFigures.end()) {
            std::string known;
            for (const FigureKind& kind : kFigures) known += (known.empty() ? "" : ", ") + std::string(kind.name);
            throw Error("write_figures: unknown figure '" + name + "' (expected one of " + known + ")");
        }
        if (std::find(wanted.begin(), wanted.end(), &*it) == wanted.end()) wanted.push_back(&*it);
    }
    FigureReport report;
    if (wanted.empty()) return report;
    std::error_code error;
    fs::create_directories(dir, error);
    require(!error && fs::is_directory(dir), dir.string() + ": cannot create the figures directory");

    // decode rows draw every figure; var rows split into scale steps (drawn against the tokens
    // so far: var-scaling) and whole generations (var-pareto, var-error).
    struct Part {
        Labels labels;
        std::vector<ResultRow> rows;
        std::vector<std::string_view> figures;
    };
    std::vector<Part> parts = {{kDecodeLabels, {}, {"pareto", "scaling", "error", "sparsity"}},
                               {kVarStepLabels, {}, {"scaling"}},
                               {kVarGenerationLabels, {}, {"pareto", "error", "sparsity"}}};
    for (const ResultRow& row : rows)
        parts[row.workload != "var" ? 0 : row.scale > 0 ? 1 : 2].rows.push_back(row);
    const bool gnuplot = gnuplot_on_path();
    std::string unrendered;
    for (const Part& part : parts) {
        const bool any = std::any_of(parts.begin(), parts.end(), [](const Part& p) { return !p.rows.empty(); });
        if (part.rows.empty() && (any || &part != &parts[0])) continue;
        const Study study = make_study(part.rows, part.labels, report.notes);
        for (const FigureKind* kind : wanted) {
            if (std::find(part.figures.begin(), part.figures.end(), kind->name) == part.figures.end()) continue;
            if (study.rows.empty()) {
                report.notes.push_back(part.labels.prefix + kind->name + ": skipped: no ok rows to draw");
                continue;
            }
            if (const std::optional<Figure> figure = kind->draw(study, report.notes)) {
                write_figure(dir, *figure, gnuplot, report);
                if (!gnuplot) unrendered += (unrendered.empty() ? "" : ", ") + figure->name;
            }
        }
    }
    if (!unrendered.empty())
        report.notes.push_back("gnuplot is not on PATH: wrote only the .csv and .gp files of " + unrendered +
                               "; to draw them, run e.g. `gnuplot -e \"fmt='pdf'\" NAME.gp` in " + dir.string());
    return report;
}

}  // namespace trikv
