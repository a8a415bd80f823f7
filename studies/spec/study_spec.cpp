#include "studies/spec/study_spec.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/files.hpp"
#include "framework/fnv_hash.hpp"
#include "framework/text.hpp"
#include "attention/matrix_attention.hpp"
#include "attention/tensor_attention.hpp"
#include "studies/spec/bounds.hpp"
#include "studies/spec/mem_limit.hpp"
#include "studies/spec/study_fields.hpp"
#include "studies/spec/budget.hpp"
#include "studies/figures/figures.hpp"
#include "studies/measure/token_data.hpp"
#include "studies/spec/toml_depth.hpp"
#include "studies/spec/toml_text.hpp"

namespace trikv {
namespace {

// The study's own keys; the rest are its fields' (studies/spec/study_fields.hpp).
const std::vector<std::string> kStudyKeys = {"name", "caches", "grid", "data", "seeds", "mem_limit", "out", "figures",
                                             "measure_peaks"};

std::vector<std::string> known_keys(bool in_data) {
    std::vector<std::string> keys = in_data ? std::vector<std::string>{} : kStudyKeys;
    for (const StudyField& field : study_fields())
        if (field.in_data == in_data) keys.push_back(field.key);
    return keys;
}

void check_keys(const toml::table& table, const std::vector<std::string>& known, const std::string& where) {
    for (const auto& [key, value] : table) {
        const std::string name(key.str());
        if (std::find(known.begin(), known.end(), name) != known.end()) continue;
        const auto closest = std::min_element(known.begin(), known.end(), [&](const auto& a, const auto& b) {
            return edit_distance(name, a) < edit_distance(name, b);
        });
        std::string hint = edit_distance(name, *closest) <= 2 ? " (did you mean '" + *closest + "'?)" : "";
        throw Error(where + ": unknown key '" + name + "'" + hint + "; known keys: " + join(known, ", "));
    }
}

void require_choice(const std::string& value, const std::vector<std::string>& choices, const std::string& where) {
    require(std::find(choices.begin(), choices.end(), value) != choices.end(),
            where + " = '" + value + "' is not one of " + join(choices, ", "));
}

// Typed readers: each names the key and what was expected when the value does not fit.
class Reader {
public:
    Reader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

    void text(const char* key, std::string& out) const {
        if (const toml::node* node = table_.get(key)) {
            require(node->is_string(), field(key) + " must be a string");
            out = **node->as_string();
        }
    }
    void texts(const char* key, std::vector<std::string>& out) const {
        if (const toml::node* node = table_.get(key)) out = strings(*node, field(key));
    }
    std::string field(const char* key) const { return where_ + ": " + key; }

    static std::vector<std::string> strings(const toml::node& node, const std::string& where) {
        const toml::array* array = node.as_array();
        require(array != nullptr, where + " must be an array of strings");
        std::vector<std::string> out;
        for (const toml::node& item : *array) {
            require(item.is_string(), where + " must hold only strings");
            out.push_back(**item.as_string());
        }
        return out;
    }
private:
    const toml::table& table_;
    std::string where_;
};

CacheGrid parse_grid(const toml::table& table, const std::string& where) {
    CacheGrid grid;
    const toml::node* cache = table.get("cache");
    require(cache && cache->is_string(), where + ": cache must be a cache name string");
    grid.cache = **cache->as_string();
    const CacheType& type = find_cache_type(grid.cache);
    for (const auto& [key, value] : table) {
        const std::string name(key.str());
        if (name == "cache") continue;
        const bool known = std::any_of(type.params.begin(), type.params.end(),
                                       [&](const CacheParam& p) { return p.name == name; });
        require(known, where + ": cache '" + grid.cache + "' has no parameter '" + name + "'");
        const toml::array* array = value.as_array();
        require(array && !array->empty(), where + ": " + name + " must be a non-empty array of values");
        for (const toml::node& item : *array) {
            std::string text;
            if (item.is_string()) text = **item.as_string();
            else if (item.is_integer()) text = std::to_string(**item.as_integer());
            else if (item.is_floating_point()) text = shortest_text(**item.as_floating_point());
            else throw Error(where + ": " + name + " values must be strings or numbers");
            grid.values[name].push_back(text);
        }
    }
    return grid;
}

}  // namespace

std::string DataSpec::label() const {
    std::ostringstream out;
    switch (kind) {
        case DataKind::clustered: out << "clustered(m=" << clusters << ",delta=" << radius << ")"; break;
        case DataKind::sparse: out << "sparse(s=" << nonzeros << ",support=" << name_of(support) << ")"; break;
        case DataKind::npy: out << "npy(" << dir << ")"; break;
        case DataKind::trace: out << "trace(" << dir << ",layer=" << layer << ",head=" << head << ")"; break;
        case DataKind::gaussian: out << name_of(kind); break;
    }
    // Only where given, so that points keep the keys they had before the means existed.
    if (!reads_files() && (k2_mean != 0 || v2_mean != 0))
        out << "+mean(k2=" << shortest_text(k2_mean) << ",v2=" << shortest_text(v2_mean) << ")";
    return out.str();
}

std::string DataSpec::arrays_dir() const {
    return kind == DataKind::trace ? dir + "/layer" + std::to_string(layer) + "/head" + std::to_string(head) : dir;
}

StudySpec parse_study(const std::string& toml_text, const std::string& source) {
    require_toml_depth(toml_text, source);
    toml::table root;
    try {
        root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        throw Error(source + ":" + std::to_string(e.source().begin.line) + ":" +
                    std::to_string(e.source().begin.column) + ": TOML syntax error: " + std::string(e.description()));
    }
    check_keys(root, known_keys(false), source);
    StudySpec spec;
    const Reader top(root, source);
    top.text("name", spec.name);
    top.texts("caches", spec.caches);
    top.text("out", spec.out);
    top.texts("figures", spec.figures);
    if (const toml::node* peaks = root.get("measure_peaks")) {
        require(peaks->is_boolean(), source + ": measure_peaks must be true or false");
        spec.measure_peaks = **peaks->as_boolean();
    }
    if (const toml::node* limit = root.get("mem_limit")) {
        // A byte count, or a percentage as on the command line ("80%").
        const std::string where = source + ": mem_limit";
        spec.mem_limit = limit->is_integer() ? parse_mem_limit(std::to_string(**limit->as_integer()), where)
                         : limit->is_string() ? parse_mem_limit(**limit->as_string(), where)
                                              : throw Error(where + " must be a byte count or a percentage like \"80%\"");
    }
    const toml::table* data = nullptr;
    if (const toml::node* node = root.get("data")) {
        require(node->is_table(), source + ": data must be a table ([data])");
        data = node->as_table();
        check_keys(*data, known_keys(true), source + ": [data]");
    }
    read_study_fields(root, data, source, spec);
    if (const toml::node* grids = root.get("grid")) {
        const toml::array* array = grids->as_array();
        require(array != nullptr, source + ": grid must be an array of tables ([[grid]])");
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::table* table = (*array)[i].as_table();
            const std::string where = source + ": grid[" + std::to_string(i) + "]";
            require(table != nullptr, where + " must be a table");
            spec.grids.push_back(parse_grid(*table, where));
        }
    }
    return spec;
}

// A study file is a few kilobytes; this is far beyond any real one.
constexpr std::uint64_t kMaxStudyFileBytes = 16 << 20;

StudySpec load_study(const std::filesystem::path& path) {
    // A regular file only: a FIFO given as the study would block forever.
    StudySpec spec = parse_study(read_regular_file(path, kMaxStudyFileBytes), path.string());
    // A study names its data relative to itself, so it runs from any directory (and the resolved
    // copy `--slurm` writes elsewhere keeps pointing at the same files).
    if (!spec.data.dir.empty() && std::filesystem::path(spec.data.dir).is_relative())
        spec.data.dir = (std::filesystem::absolute(path).parent_path() / spec.data.dir).lexically_normal().string();
    return spec;
}

// A value given twice would be the same points twice (measured once, then reported as
// "recorded by another process"): a typo, refused naming it.
template <class T>
void require_distinct(const std::vector<T>& values, const char* field) {
    for (std::size_t i = 0; i < values.size(); ++i)
        require(std::find(values.begin(), values.begin() + i, values[i]) == values.begin() + i,
                std::string("study: ") + field + ": " + format_number(double(values[i])) +
                    " is given twice; give each value once");
}

void validate_study(const StudySpec& spec) {
    require(!spec.caches.empty() || !spec.grids.empty(), "study: no caches; give caches = [...] or --cache");
    // A NUL would cut the path short where the system reads it: another directory than named.
    for (const auto& [field, path] : {std::pair{"out", &spec.out}, std::pair{"data.dir", &spec.data.dir}})
        require(path->find('\0') == std::string::npos,
                std::string("study: ") + field + " = '" + printable(*path) + "' holds a NUL character");
    require_distinct(spec.n, "n");
    require_distinct(spec.d, "d");
    require_distinct(spec.heads, "heads");
    require_distinct(spec.kv_heads, "kv_heads");
    require_distinct(spec.scales, "scale");
    require_distinct(spec.nonzeros, "data.nonzeros");
    require_distinct(spec.trace_layers, "data.layer");
    require_distinct(spec.trace_heads, "data.head");
    require(spec.workload != Workload::prefill, "study: workload = 'prefill' is measured by `trikv prefill`, not by a study (decode, var)");
    if (spec.workload == Workload::var) {
        require(spec.n.empty(), "study: n is not used by workload 'var' (its tokens are the schedule's); remove n");
        require(!spec.schedule.empty(), "study: schedule is empty; give the sides of the token maps, e.g. [1, 2, 4]");
    } else {
        require(!spec.n.empty(), "study: no sequence lengths; give n = [...] or --n");
    }
    require(!spec.d.empty(), "study: no head dimensions; give d = [...] or --d");
    require(!spec.heads.empty(), "study: heads is empty");
    for (std::size_t i = 0; i < spec.seeds.size(); ++i)
        require(std::find(spec.seeds.begin(), spec.seeds.begin() + std::ptrdiff_t(i), spec.seeds[i]) ==
                    spec.seeds.begin() + std::ptrdiff_t(i),
                "study: seeds lists " + std::to_string(spec.seeds[i]) + " twice; each seed is a point of its own");
    require(!spec.kinds.empty() && !spec.scales.empty(), "study: data.kind and scale must not be empty");
    const auto has_kind = [&](DataKind kind) {
        return std::find(spec.kinds.begin(), spec.kinds.end(), kind) != spec.kinds.end();
    };
    for (const DataKind kind : spec.kinds)
        if (kind == DataKind::npy || kind == DataKind::trace)
            require(!spec.data.dir.empty(), "study: data.kind = '" + name_of(kind) + "' needs data.dir");
    if (has_kind(DataKind::trace)) {
        require(!spec.trace_layers.empty() && !spec.trace_heads.empty(),
                "study: data.kind = 'trace' needs data.layer and data.head (which of the trace's heads to read)");
        require(spec.heads == std::vector<std::size_t>{1},
                "study: heads = " + toml_list(spec.heads) + "; a trace point reads one head, so heads must be [1]");
    }
    if (has_kind(DataKind::sparse)) {
        require(!spec.nonzeros.empty() && !spec.supports.empty(), "study: data.nonzeros and data.support must not be empty");
        for (std::size_t s : spec.nonzeros)
            for (std::size_t d : spec.d)
                require(s >= 1 && s <= d, "study: data.nonzeros = " + std::to_string(s) + " is out of range [1, d = " +
                                              std::to_string(d) + "]");
    }
    for (const std::string& figure : spec.figures) require_choice(figure, figure_names(), "study: figures");
    // Parses every spec; npy and trace data must hold the tokens of the study's longest point.
    for (const StudyPoint& point : expand_study(spec)) {
        const bool var = point.workload == Workload::var;
        const std::size_t needed = var ? point.n : point.n + point.warmup + point.repetitions;
        require(!point.data.reads_files() || point.data.tokens >= needed,
                "study: data.dir = '" + point.data.arrays_dir() + "' holds " + std::to_string(point.data.tokens) +
                    " tokens; the point " + point.describe() + " needs " + std::to_string(needed) +
                    (var ? " (the schedule's)" : " (n + warmup + repetitions)"));
    }
}

std::vector<StudyPoint> expand_study(const StudySpec& spec) {
    std::vector<std::string> caches;
    for (const std::string& cache : spec.caches) caches.push_back(parse_cache_spec(cache).canonical());
    for (const CacheGrid& grid : spec.grids) {
        std::vector<std::string> specs = {""};
        for (const auto& [param, values] : grid.values) {
            std::vector<std::string> longer;
            for (const std::string& prefix : specs)
                for (const std::string& value : values)
                    longer.push_back(prefix + (prefix.empty() ? "" : ",") + param + "=" + value);
            specs = std::move(longer);
        }
        for (const std::string& params : specs)
            caches.push_back(parse_cache_spec(params.empty() ? grid.cache : grid.cache + ":" + params).canonical());
    }
    std::vector<std::string> distinct;  // `--cache factor --cache factor` is one point
    for (const std::string& cache : caches)
        if (std::find(distinct.begin(), distinct.end(), cache) == distinct.end()) distinct.push_back(cache);
    caches = std::move(distinct);
    const bool var = spec.workload == Workload::var;
    std::size_t var_tokens = 0;
    for (std::size_t side : spec.schedule) var_tokens += side * side;
    const std::vector<std::size_t> lengths = var ? std::vector<std::size_t>{var_tokens} : spec.n;
    // One data per point: the [data] table as given per kind, one per (nonzeros, support) if
    // sparse, one per (layer, head) if a trace.
    std::vector<DataSpec> datas;
    for (const DataKind kind : spec.kinds) {
        DataSpec data = spec.data;
        data.kind = kind;
        if (kind == DataKind::trace) {
            for (std::size_t layer : spec.trace_layers)
                for (std::size_t head : spec.trace_heads) {
                    data.layer = layer;
                    data.head = head;
                    inspect_npy_data(data);
                    datas.push_back(data);
                }
            continue;
        }
        if (kind != DataKind::sparse) {
            if (kind == DataKind::npy) inspect_npy_data(data);
            datas.push_back(data);
            continue;
        }
        for (std::size_t s : spec.nonzeros)
            for (const Support support : spec.supports) {
                data.nonzeros = s;
                data.support = support;
                datas.push_back(data);
            }
    }
    std::vector<StudyPoint> points;
    for (const std::string& cache : caches) {
        const std::vector<ScoreVariant> computed = supported_variants(parse_cache_spec(cache));
        for (std::size_t n : lengths)
            for (std::size_t d : spec.d)
                for (std::size_t heads : spec.heads)
                    for (std::size_t kv : spec.kv_heads.empty() ? std::vector<std::size_t>{heads} : spec.kv_heads)
                        for (const ScoreVariant variant : spec.variants) {
                            require(heads % kv == 0, "study: kv_heads = " + std::to_string(kv) +
                                                         " does not divide heads = " + std::to_string(heads));
                            if (std::find(computed.begin(), computed.end(), variant) == computed.end()) continue;
                            for (double scale : spec.scales)
                                for (const DataSpec& data : datas)
                                    // Data read from files is the same under every seed: its first only.
                                    for (const std::uint64_t seed : data.reads_files()
                                                                        ? std::vector<std::uint64_t>{spec.seeds.front()}
                                                                        : spec.seeds)
                                    points.push_back(point_for(
                                        cache, {.n = n,
                                                .d = d,
                                                .heads = heads,
                                                .workload = spec.workload,
                                                .schedule = var ? spec.schedule : std::vector<std::size_t>{},
                                                .data = data,
                                                .seed = seed,
                                                .warmup = spec.warmup,
                                                .repetitions = spec.repetitions,
                                                .threads = spec.threads,
                                                .scale = scale,
                                                .kv_heads = kv,
                                                .variant = variant,
                                                .k2_bias = spec.k2_bias,
                                                .v2_bias = spec.v2_bias,
                                                .accuracy_positions = spec.accuracy_positions}));
                        }
    }
    return fit_budgets(spec.budgets, std::move(points));
}

StudyPoint point_for(const std::string& cache_spec, StudyPoint rest) {
    const CacheConfig config = parse_cache_spec(cache_spec);
    rest.cache = config.canonical();
    rest.type = &find_cache_type(config.name());
    return rest;
}

bool StudyPoint::has_own_scale() const {
    StudyPoint unscaled = *this;
    unscaled.scale = 0;
    return scale > 0 && scale != unscaled.resolved_scale();
}

double StudyPoint::resolved_scale() const {
    if (scale > 0) return scale;
    return default_scale(type->attention, d);
}

CacheShape StudyPoint::shape() const {
    CacheShape shape{heads, d, resolved_scale(), kv_heads ? kv_heads : heads, variant};
    shape.k2_bias = k2_bias;
    shape.v2_bias = v2_bias;
    return shape;
}

std::string StudyPoint::key() const {
    std::string config = "cache=" + cache;
    for (const StudyField& field : study_fields()) {
        const std::string part = field.key_part ? field.key_part(*this) : std::string();
        if (!part.empty()) config += ";" + part;
    }
    return Fnv1a().mix(config).hex();
}

std::string StudyPoint::describe() const {
    return cache + (workload == Workload::var ? " var(" + std::to_string(schedule.size()) + " scales)" : "") +
           " n=" + std::to_string(n) + " d=" + std::to_string(d) + " h=" + std::to_string(heads) +
           (kv_heads != 0 && kv_heads != heads ? "/" + std::to_string(kv_heads) : "") +
           (variant != ScoreVariant::trilinear ? " " + variant_name(variant) : "") +
           (data.kind == DataKind::gaussian ? "" : " " + data.label()) +
           (has_own_scale() ? " scale=" + shortest_text(scale) : "") + (budget.empty() ? "" : " budget=" + budget);
}

}  // namespace trikv
