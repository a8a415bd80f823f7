#pragma once
// Cache types by name. A spec string is `name` or `name:key=value,key=value`; parameters are
// declared once by each type (with default, description and allowed values) and validated
// here, uniformly, with errors that list what exists.
//
// A cache type registers itself from its own .cpp file:
//     static const bool registered = trikv::register_cache({...});
// Static initialisers only run for object files that get linked. trikv is built as a shared
// library, which keeps every object; a cache compiled into an executable (tests/) is linked
// because it is named on the link line.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caches/cache.hpp"
#include "framework/dtype.hpp"
#include "framework/text.hpp"  // format_number: the canonical form of a spec's numbers

namespace trikv {

struct CacheParam {
    std::string name;
    std::string default_value;
    std::string description;
    std::vector<std::string> choices;  // allowed values; empty = a number in [min, max]
    double min = 0;
    double max = 0;
    bool integer = false;
};

// A parsed, validated spec: the type's name and a value for every declared parameter.
class CacheConfig {
public:
    CacheConfig(std::string name, std::map<std::string, std::string> values)
        : name_(std::move(name)), values_(std::move(values)) {}
    const std::string& name() const { return name_; }
    const std::string& text(const std::string& key) const;
    bool has(const std::string& key) const { return values_.count(key) > 0; }
    double number(const std::string& key) const;
    long integer(const std::string& key) const;
    // `name:key=value,...` with every parameter, in declaration order.
    std::string canonical() const;
    // canonical() with the given parameters set to other values (an accuracy ladder's steps).
    std::string with(const std::map<std::string, std::string>& changes) const;

private:
    std::string name_;
    std::map<std::string, std::string> values_;
};

// What a cache computes: tensor attention (docs/math.md §2), or standard attention over each token's
// (k1, v1), the baseline (docs/math.md §2, last paragraph; k2 and v2 are ignored).
enum class AttentionKind { tensor, matrix };

using CacheFactory = std::function<std::unique_ptr<Cache>(const CacheConfig&, const CacheShape&)>;

// What a byte budget is fitted for (caches/budget.hpp): the sequence length, and caps a caller
// puts on numeric parameters (a windowed model's own windows: it never saw pairs beyond them).
struct BudgetScope {
    std::size_t tokens = 1;
    std::map<std::string, double> at_most{};
    // The cap on `param`, or `otherwise` when there is none (or it is larger).
    double most(const std::string& param, double otherwise) const;
};

struct CacheType {
    std::string name;
    std::string description;  // one line, for `trikv caches`
    bool exact = true;        // computes its attention exactly (up to rounding), with its defaults
    // When exactness depends on the parameters (reduced-precision storage: dtype=bf16 is not
    // exact, dtype=f32 is): whether a spec of this type is exact. nullptr = `exact` for every spec.
    std::function<bool(const CacheConfig&)> exact_when = nullptr;
    AttentionKind attention = AttentionKind::tensor;
    // bytes() is the type's own report, not counted through the allocator (cache types
    // written in Python); studies record it in the bytes_source column.
    bool bytes_self_reported = false;
    std::vector<CacheParam> params;
    CacheFactory make;
    // Approximate types only: a spec of this type that computes exact tensor attention on any
    // sequence of at most `tokens` tokens (a window at least that wide, say), or empty when
    // no parameters make it exact (SubGen's value samplers draw with replacement). The
    // approximate conformance test (tests/test_approximate_conformance.cpp) holds the type to
    // it with the exact caches' checks.
    std::function<std::string(std::size_t tokens)> exact_regime = nullptr;
    // The score variants (docs/math.md §9) a spec of this type computes, given its parameters;
    // nullptr is trilinear only. make_cache refuses any other variant with a one-line error, so
    // a type never runs a variant it would get wrong.
    std::function<std::vector<ScoreVariant>(const CacheConfig&)> variants = nullptr;
    // Approximate types: the settings a byte budget chooses among (caches/budget.hpp), least
    // accurate first (a larger window, more samples, a higher degree, a wider storage type),
    // each a spec that keeps the parameters of `config` the ladder does not vary. Budget fitting
    // takes the most accurate whose resident bytes fit. nullptr: no budget rule.
    std::function<std::vector<std::string>(const CacheConfig& config, const BudgetScope& scope)> accuracy_ladder = nullptr;
    // The resident bytes depend on the keys, not only on the token count (SubGen's clusters:
    // its cost model on an empty cache counts none), so a budget counts them after appending data.
    // The empty cache's count must be a lower bound (data only adds): fitting prunes with it.
    bool bytes_depend_on_data = false;
};

// The scale an unset CacheShape::scale (0) becomes: tensor 1/d, matrix (standard attention) 1/√d.
double default_scale(AttentionKind attention, std::size_t dim);

// For CacheType::exact_when of types with a `dtype` parameter: reduced-precision storage (bf16,
// fp16, int8) rounds the stored rows beyond float32, so only dtype=f32 is exact.
bool exact_in_float32(const CacheConfig& config);
// The storage a spec's `dtype` parameter chooses; f32 for types without one.
Dtype storage_dtype(const CacheConfig& config);

// The one rule for "exact": the type claims it, for these parameters (CacheType::exact_when).
bool is_exact(const CacheConfig& config);

// A spec's text split into its type's name and its parameters, in the order written
// ("factor:strategy=fused,dtype=f32" → factor, {strategy, fused}, {dtype, f32}). Reads the text
// only (results may name types not registered in this process: a plugin's, a Python type's);
// parse_cache_spec validates on top of it.
struct SpecParts {
    std::string type;
    std::vector<std::pair<std::string, std::string>> parameters;
    std::vector<std::string> malformed;  // fields that are not key=value ("" too: "a=1,")
};
SpecParts split_cache_spec(const std::string& spec);

// For CacheType::variants: every variant, whatever the parameters.
std::vector<ScoreVariant> all_variants(const CacheConfig&);
// The variants a parsed spec computes (its type's CacheType::variants; trilinear if none).
std::vector<ScoreVariant> supported_variants(const CacheConfig& config);

// Registers a type; throws on a duplicate name, a bad name or a bad default. Returns true so
// it can initialise a static (false when it refused the type while errors are deferred).
bool register_cache(CacheType type);

// While one is alive, register_cache records why it refuses a type instead of throwing: the
// static initialisers of a plugin run inside dlopen, which an exception must not cross
// (studies/cli/plugins.cpp checks errors() once dlopen returns). One at a time.
class DeferredRegistrationErrors {
public:
    DeferredRegistrationErrors();
    ~DeferredRegistrationErrors();
    DeferredRegistrationErrors(const DeferredRegistrationErrors&) = delete;
    DeferredRegistrationErrors& operator=(const DeferredRegistrationErrors&) = delete;
    const std::vector<std::string>& errors() const { return errors_; }

private:
    std::vector<std::string> errors_;
};
// Every registered type, sorted by name.
std::vector<const CacheType*> cache_types();
const CacheType& find_cache_type(const std::string& name);
// Parses and validates a spec string (unknown names, keys and bad values throw trikv::Error).
CacheConfig parse_cache_spec(const std::string& spec);
// A cache of `spec` for `shape`; an unset shape.scale (0) becomes default_scale of the type.
std::unique_ptr<Cache> make_cache(const std::string& spec, const CacheShape& shape);

}  // namespace trikv
