#include "caches/registry.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <cmath>

#include "attention/matrix_attention.hpp"
#include "attention/tensor_attention.hpp"
#include "framework/error.hpp"
#include "framework/text.hpp"

namespace trikv {
namespace {

// Function-local static: safe to use from other files' static initialisers.
std::map<std::string, CacheType>& types() {
    static std::map<std::string, CacheType> registry;
    return registry;
}

std::optional<double> parse_number(const std::string& text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
        return std::nullopt;
    return value;
}

void validate(const CacheType& type, const CacheParam& param, const std::string& value) {
    const std::string where = "cache '" + type.name + "': " + param.name + "=" + printable(value);
    if (!param.choices.empty()) {
        require(std::find(param.choices.begin(), param.choices.end(), value) != param.choices.end(),
                where + " is not one of " + join(param.choices, "|") + did_you_mean(value, param.choices));
        return;
    }
    const std::optional<double> number = parse_number(value);
    require(number.has_value(), where + " is not a number");
    require(!param.integer || *number == std::floor(*number), where + " is not a whole number");
    require(*number >= param.min && *number <= param.max,
            where + " is out of range [" + format_number(param.min) + ", " +
                format_number(param.max) + "]");
}

// Names go into specs, point keys and CSV files: printable ASCII without the spec's separators.
void require_plain_name(const std::string& name, const std::string& what) {
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return c > 0x20 && c < 0x7f && std::string_view(":,=\"'\\").find(c) == std::string_view::npos;
    });
    require(plain, "register_cache: invalid " + what + " '" + printable(name) +
                       "'; expected printable ASCII without white space, quotes, ':', ',' or '='");
}

// Text `trikv caches` prints (a plugin's or a Python class's): no control characters, so it
// cannot carry terminal escape sequences or break a line.
void require_plain_text(const std::string& text, const std::string& what) {
    const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
    require(plain, "register_cache: " + what + " '" + printable(text) + "' holds control characters");
}

// Where register_cache records refusals while a DeferredRegistrationErrors is alive.
std::vector<std::string>*& deferred_errors() {
    static std::vector<std::string>* errors = nullptr;
    return errors;
}

std::vector<std::string> registered_names() {
    std::vector<std::string> names;
    for (const auto& [name, type] : types()) names.push_back(name);
    return names;
}

}  // namespace

const std::string& CacheConfig::text(const std::string& key) const {
    const auto found = values_.find(key);
    require(found != values_.end(), "cache '" + name_ + "' has no parameter '" + key + "'");
    return found->second;
}

double CacheConfig::number(const std::string& key) const { return *parse_number(text(key)); }

long CacheConfig::integer(const std::string& key) const { return std::lround(number(key)); }

std::string CacheConfig::canonical() const {
    std::vector<std::string> pairs;
    for (const CacheParam& param : find_cache_type(name_).params)
        pairs.push_back(param.name + "=" + text(param.name));
    return pairs.empty() ? name_ : name_ + ":" + join(pairs, ",");
}

std::string CacheConfig::with(const std::map<std::string, std::string>& changes) const {
    CacheConfig changed = *this;
    for (const auto& [key, value] : changes) {
        text(key);  // an existing parameter
        changed.values_[key] = value;
    }
    return changed.canonical();
}

double BudgetScope::most(const std::string& param, double otherwise) const {
    const auto cap = at_most.find(param);
    return cap == at_most.end() ? otherwise : std::min(cap->second, otherwise);
}

bool register_cache(CacheType type) {
    try {
        require_plain_name(type.name, "cache name");
        require(!types().count(type.name), "register_cache: cache '" + type.name + "' is registered twice");
        require_plain_text(type.description, "cache '" + type.name + "': description");
        for (const CacheParam& param : type.params) {
            require_plain_name(param.name, "parameter name of cache '" + type.name + "'");
            require_plain_text(param.description, "cache '" + type.name + "': parameter '" + param.name + "': description");
            for (const std::string& choice : param.choices)
                require_plain_text(choice, "cache '" + type.name + "': parameter '" + param.name + "': choice");
            validate(type, param, param.default_value);
        }
    } catch (const Error& refused) {
        if (!deferred_errors()) throw;
        deferred_errors()->push_back(refused.what());
        return false;
    }
    std::string name = type.name;
    types().emplace(std::move(name), std::move(type));
    return true;
}

DeferredRegistrationErrors::DeferredRegistrationErrors() {
    require(deferred_errors() == nullptr, "DeferredRegistrationErrors: one is already alive");
    deferred_errors() = &errors_;
}

DeferredRegistrationErrors::~DeferredRegistrationErrors() { deferred_errors() = nullptr; }

std::vector<const CacheType*> cache_types() {
    std::vector<const CacheType*> list;
    for (const auto& [name, type] : types()) list.push_back(&type);
    return list;
}

std::vector<ScoreVariant> all_variants(const CacheConfig&) {
    return {ScoreVariant::trilinear, ScoreVariant::rank1, ScoreVariant::strassen};
}

std::vector<ScoreVariant> supported_variants(const CacheConfig& config) {
    const CacheType& type = find_cache_type(config.name());
    return type.variants ? type.variants(config) : std::vector<ScoreVariant>{ScoreVariant::trilinear};
}

const CacheType& find_cache_type(const std::string& name) {
    const auto found = types().find(name);
    if (found == types().end()) {
        const std::vector<std::string> names = registered_names();
        throw Error("cache: unknown cache '" + printable(name) + "'" + did_you_mean(name, names) +
                    "; registered caches: " + join(names, ", "));
    }
    return found->second;
}

SpecParts split_cache_spec(const std::string& spec) {
    const std::size_t colon = spec.find(':');
    SpecParts parts{spec.substr(0, colon), {}, {}};
    if (colon == std::string::npos) return parts;
    // Every field, empty ones included ("a=1," has two), so parse_cache_spec refuses each that
    // is not key=value.
    std::string field;
    auto add = [&] {
        const std::size_t equals = field.find('=');
        if (equals == std::string::npos || equals == 0) parts.malformed.push_back(field);
        else parts.parameters.push_back({field.substr(0, equals), field.substr(equals + 1)});
        field.clear();
    };
    for (char c : spec.substr(colon + 1)) {
        if (c == ',') add();
        else field += c;
    }
    add();
    return parts;
}

CacheConfig parse_cache_spec(const std::string& spec) {
    const SpecParts parts = split_cache_spec(spec);
    const std::string& name = parts.type;
    const CacheType& type = find_cache_type(name);

    std::map<std::string, std::string> values;
    for (const CacheParam& param : type.params) values[param.name] = param.default_value;

    if (!parts.malformed.empty())
        throw Error("cache '" + name + "': parameter '" + printable(parts.malformed.front()) + "' in spec '" +
                    printable(spec) + "' is not of the form key=value");
    std::vector<std::string> seen;
    for (const auto& parameter : parts.parameters) {
        // Named, not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
        const std::string& key = parameter.first;
        const std::string& value = parameter.second;
        const auto param = std::find_if(type.params.begin(), type.params.end(),
                                        [&](const CacheParam& p) { return p.name == key; });
        if (param == type.params.end()) {
            std::vector<std::string> names;
            for (const CacheParam& p : type.params) names.push_back(p.name);
            throw Error("cache '" + name + "': unknown parameter '" + printable(key) + "'" + did_you_mean(key, names) +
                        "; parameters: " + (names.empty() ? std::string("none") : join(names, ", ")));
        }
        require(std::find(seen.begin(), seen.end(), key) == seen.end(),
                "cache '" + name + "': parameter '" + key + "' is given twice in '" + printable(spec) + "'");
        seen.push_back(key);
        validate(type, *param, value);
        // Numbers in one form (format_number): w1=8.0, w1=8e0 and w1=8 are one spec.
        values[key] = param->choices.empty() ? format_number(*parse_number(value)) : value;
    }
    return CacheConfig(name, values);
}

double default_scale(AttentionKind attention, std::size_t dim) {
    return attention == AttentionKind::matrix ? default_matrix_scale(dim) : default_tensor_scale(dim);
}

bool exact_in_float32(const CacheConfig& config) { return config.text("dtype") == "f32"; }

Dtype storage_dtype(const CacheConfig& config) {
    if (!config.has("dtype")) return Dtype::f32;
    const std::vector<std::string> names = dtype_names();
    const auto found = std::find(names.begin(), names.end(), config.text("dtype"));
    require(found != names.end(), "cache '" + config.name() + "': dtype '" + config.text("dtype") + "' is not a storage format");
    return static_cast<Dtype>(found - names.begin());
}

bool is_exact(const CacheConfig& config) {
    const CacheType& type = find_cache_type(config.name());
    return type.exact_when ? type.exact_when(config) : type.exact;
}

std::unique_ptr<Cache> make_cache(const std::string& spec, const CacheShape& requested) {
    CacheShape shape = requested;
    require(shape.heads > 0, "cache: heads=" + std::to_string(shape.heads) + " must be positive");
    require(shape.dim > 0, "cache: dim=" + std::to_string(shape.dim) + " must be positive");
    require(std::isfinite(shape.scale) && shape.scale >= 0, "cache: scale=" + format_number(shape.scale) +
                                                                 " must be finite and positive (0: the type's default)");
    require(shape.kv_heads > 0 && shape.heads % shape.kv_heads == 0,
            "cache: kv_heads=" + std::to_string(shape.kv_heads) + " must divide heads=" + std::to_string(shape.heads));
    require(std::isfinite(shape.k2_bias), "cache: k2_bias=" + format_number(shape.k2_bias) + " must be finite");
    require(std::isfinite(shape.v2_bias), "cache: v2_bias=" + format_number(shape.v2_bias) + " must be finite");
    const CacheConfig config = parse_cache_spec(spec);
    const CacheType& type = find_cache_type(config.name());
    const std::vector<ScoreVariant> supported = supported_variants(config);
    if (std::find(supported.begin(), supported.end(), shape.variant) == supported.end()) {
        std::vector<std::string> names;
        for (ScoreVariant v : supported) names.push_back(variant_name(v));
        throw Error("cache '" + config.canonical() + "' does not compute variant=" + variant_name(shape.variant) +
                    " (it supports " + join(names, "|") + ")");
    }
    if (shape.scale == 0) shape.scale = default_scale(type.attention, shape.dim);
    return type.make(config, shape);
}

}  // namespace trikv
