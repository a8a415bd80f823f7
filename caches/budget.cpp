#include "caches/budget.hpp"

#include <charconv>
#include <cmath>

#include "framework/error.hpp"

namespace trikv {

Budget Budget::parse(const std::string& text, const std::string& field) {
    const std::string refusal = field + " = '" + printable(text) +
                                "' is neither a positive percentage (25%) nor a positive whole number of bytes";
    const bool percent = !text.empty() && text.back() == '%';
    const std::string number = percent ? text.substr(0, text.size() - 1) : text;
    double value = 0;
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    const bool read = !number.empty() && error == std::errc() && end == number.data() + number.size();
    require(read && std::isfinite(value) && value > 0, refusal);
    if (percent) return {text, value / 100, 0};
    require(value == std::floor(value) && value < 1e18, refusal);
    return {text, 0, static_cast<std::size_t>(value)};
}

std::size_t Budget::resolve(const CacheShape& shape, std::size_t tokens) const {
    if (fraction == 0) return bytes;
    return static_cast<std::size_t>(std::floor(fraction * double(budget_bytes(kBudgetReference, shape, tokens))));
}

std::size_t budget_bytes(const std::string& spec, const CacheShape& shape, std::size_t tokens,
                         const std::vector<BudgetData>& data) {
    const CacheConfig config = parse_cache_spec(spec);
    if (!find_cache_type(config.name()).bytes_depend_on_data) return least_bytes(spec, shape, tokens);
    require(!data.empty(), "budget: cache '" + config.canonical() +
                               "' holds bytes that depend on the keys; give data to fill it with before counting");
    std::size_t largest = 0;
    for (const BudgetData& sequence : data) {
        require(sequence.tokens >= tokens, "budget: the data to count '" + config.canonical() + "' on holds " +
                                               std::to_string(sequence.tokens) + " tokens; " +
                                               std::to_string(tokens) + " are needed");
        const auto cache = make_cache(spec, shape);
        cache->append(tokens, sequence.k1, sequence.k2, sequence.v1, sequence.v2);
        largest = std::max(largest, static_cast<std::size_t>(cache->cost(tokens).resident_bytes));
    }
    return largest;
}

std::size_t least_bytes(const std::string& spec, const CacheShape& shape, std::size_t tokens) {
    return static_cast<std::size_t>(make_cache(spec, shape)->cost(tokens).resident_bytes);
}

std::vector<std::string> accuracy_ladder(const std::string& spec, const BudgetScope& scope) {
    const CacheConfig config = parse_cache_spec(spec);
    const CacheType& type = find_cache_type(config.name());
    require(type.accuracy_ladder != nullptr, "budget: cache type '" + type.name +
                                                 "' has no budget rule (CacheType::accuracy_ladder, docs/extending.md)");
    std::vector<std::string> ladder;
    for (const std::string& step : type.accuracy_ladder(config, scope)) {
        const CacheConfig setting = parse_cache_spec(step);
        bool within = true;
        for (const auto& [param, cap] : scope.at_most)
            for (const CacheParam& declared : type.params)
                if (declared.name == param && declared.choices.empty()) within = within && setting.number(param) <= cap;
        if (within) ladder.push_back(setting.canonical());
    }
    return ladder;
}

std::optional<BudgetFit> fit_budget(const std::string& spec, const CacheShape& shape, std::size_t budget,
                                    const BudgetScope& scope, const std::vector<BudgetData>& data) {
    const std::vector<std::string> ladder = accuracy_ladder(spec, scope);
    // Most accurate first: the first that fits is the answer.
    for (auto step = ladder.rbegin(); step != ladder.rend(); ++step) {
        if (least_bytes(*step, shape, scope.tokens) > budget) continue;
        const std::size_t bytes = budget_bytes(*step, shape, scope.tokens, data);
        if (bytes <= budget) return BudgetFit{*step, bytes};
    }
    return std::nullopt;
}

std::vector<std::size_t> powers_up_to(double most) {
    const auto top = static_cast<std::size_t>(std::max(1.0, std::floor(most)));
    std::vector<std::size_t> values;
    for (std::size_t power = 1; power < top; power *= 2) values.push_back(power);
    values.push_back(top);
    return values;
}

std::vector<std::string> reduced_storage_ladder(const CacheConfig& config, const BudgetScope&) {
    std::vector<std::string> ladder;
    for (const char* dtype : {"int8", "bf16", "fp16"}) ladder.push_back(config.with({{"dtype", dtype}}));
    return ladder;
}

}  // namespace trikv
