#include "studies/spec/mem_limit.hpp"

#include <charconv>
#include <cmath>
#include <optional>

#include "framework/error.hpp"
#include "framework/text.hpp"
#include "studies/spec/bounds.hpp"

namespace trikv {

std::string MemLimit::text() const {
    return bytes > 0 ? std::to_string(bytes) : "\"" + shortest_text(percent) + "%\"";
}

std::optional<MemLimit> read_mem_limit(const std::string& text) {
    MemLimit limit;
    const char* end = text.data() + text.size();
    if (!text.empty() && text.back() == '%') {
        double percent = 0;
        const auto [stop, error] = std::from_chars(text.data(), end - 1, percent);
        if (error != std::errc() || stop != end - 1 || !(percent > 0 && percent <= 100)) return std::nullopt;
        limit.percent = percent;
        return limit;
    }
    long long bytes = 0;
    const auto [stop, error] = std::from_chars(text.data(), end, bytes);
    if (error != std::errc() || stop != end || bytes < bounds::kMemLimitBytes.min) return std::nullopt;
    limit.bytes = static_cast<std::uint64_t>(bytes);
    return limit;
}

std::string mem_limit_problem(const std::string& text) {
    return printable(text) + " is not a byte count in [" + std::to_string(bounds::kMemLimitBytes.min) + ", " +
           std::to_string(bounds::kMemLimitBytes.max) + "] or a percentage in (0%, 100%] like 80%";
}

MemLimit parse_mem_limit(const std::string& text, const std::string& field) {
    const std::optional<MemLimit> limit = read_mem_limit(text);
    require(limit.has_value(), field + ": " + mem_limit_problem(text));
    return *limit;
}

}  // namespace trikv
