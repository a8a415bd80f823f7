#pragma once
// Equal-memory comparisons: under a byte budget, an approximate cache type is configured to its
// most accurate setting that fits. The settings and their order are the type's own
// (CacheType::accuracy_ladder, declared in its file beside its parameters); what fits is decided
// here, by one counting rule for every type (budget_bytes). Studies (the `budget` key,
// studies/spec/budget.hpp) and the Python model tools (python/trikv/model/budget.py, through
// the bindings) both fit through fit_budget.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "caches/registry.hpp"

namespace trikv {

// The exact cache a percentage budget is a fraction of.
inline constexpr const char* kBudgetReference = "factor";

// A budget as written: "25%" (of the reference cache's resident bytes at the same shape and
// length) or a whole number of bytes.
struct Budget {
    std::string text;
    double fraction = 0;    // of the reference's bytes; 0 when absolute
    std::size_t bytes = 0;  // when absolute

    // Throws trikv::Error "<field> = '<text>' is neither …" (one line) for anything else.
    static Budget parse(const std::string& text, const std::string& field);
    // The bytes a cache of `shape` may hold after `tokens` tokens.
    std::size_t resolve(const CacheShape& shape, std::size_t tokens) const;
};

// One sequence's keys and values, [tokens, kv_heads, dim] float32 each (Cache::append's layout):
// what a type whose bytes depend on the data is filled with before its bytes are counted.
struct BudgetData {
    std::size_t tokens = 0;
    const float* k1 = nullptr;
    const float* k2 = nullptr;
    const float* v1 = nullptr;
    const float* v2 = nullptr;
};

// The one counting rule: the resident bytes of a `spec` cache of `shape` after `tokens` tokens,
// by its cost model (equal to the allocator-counted bytes: tests/test_cache_memory.cpp). A type
// whose bytes depend on the data (CacheType::bytes_depend_on_data) is first filled with the
// first `tokens` tokens of each `data` sequence, and the largest count is taken: not a worst-case
// bound (every key its own SubGen cluster would exceed any useful budget), the bytes it holds on
// this data. Such a type without data, or data shorter than `tokens`, throws.
std::size_t budget_bytes(const std::string& spec, const CacheShape& shape, std::size_t tokens,
                         const std::vector<BudgetData>& data = {});

// The fewest bytes a `spec` cache of `shape` holds after `tokens` tokens whatever the data: its
// cost model on an empty cache. Equal to budget_bytes for most types; a type whose bytes depend
// on the data only adds to it as keys arrive (SubGen's clusters), so a setting whose least bytes
// exceed a budget is refused without filling it (subgen2 at 1,024 tokens fills for minutes).
std::size_t least_bytes(const std::string& spec, const CacheShape& shape, std::size_t tokens);

// The settings spec's type offers under `scope`, least accurate first: its accuracy_ladder,
// without any setting whose parameter exceeds a cap in scope.at_most. Throws when the type has
// no budget rule.
std::vector<std::string> accuracy_ladder(const std::string& spec, const BudgetScope& scope);

struct BudgetFit {
    std::string spec;
    std::size_t bytes = 0;  // budget_bytes of spec
};

// The most accurate setting of spec's type (its ladder under scope, for scope.tokens tokens)
// whose budget_bytes are at most `budget`; nullopt when none fits.
std::optional<BudgetFit> fit_budget(const std::string& spec, const CacheShape& shape, std::size_t budget,
                                    const BudgetScope& scope, const std::vector<BudgetData>& data = {});

// For accuracy ladders: 1, 2, 4, … up to `most`, and `most` itself (at least 1).
std::vector<std::size_t> powers_up_to(double most);
// For CacheType::accuracy_ladder of types with a `dtype` parameter: reduced storage, least
// accurate first (int8, bf16, fp16: fp16 keeps more mantissa than bf16 in the same bytes).
// float32 is not a step: it is the exact cache, not an approximate setting.
std::vector<std::string> reduced_storage_ladder(const CacheConfig& config, const BudgetScope& scope);

}  // namespace trikv
