#include "studies/cli/arguments.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "studies/measure/measure.hpp"

namespace trikv::cli {
namespace {

std::string range_text(bounds::Range range) {
    return "[" + std::to_string(range.min) + ", " + std::to_string(range.max) + "]";
}

// The whole text as a number of type T (from_chars: no sign for unsigned, no spaces), or nullopt (empty, trailing text, out of T's range).
template <class T>
std::optional<T> parse_text(std::string_view text) {
    T value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

const std::string kMemLimitExpected = "a byte count in " + range_text(bounds::kMemLimitBytes) +
                                      " or a percentage in (0%, 100%] like 80%";

std::optional<MemLimit> read_mem_limit(std::string_view text) {
    MemLimit limit;
    if (!text.empty() && text.back() == '%') {
        const std::optional<double> percent = parse_text<double>(text.substr(0, text.size() - 1));
        if (!percent || !(*percent > 0 && *percent <= 100)) return std::nullopt;
        limit.fraction = *percent / 100;
        return limit;
    }
    const std::optional<long long> bytes = parse_text<long long>(text);
    if (!bytes || *bytes < bounds::kMemLimitBytes.min) return std::nullopt;
    limit.bytes = static_cast<std::uint64_t>(*bytes);
    return limit;
}

}  // namespace

CLI::Validator whole_in(bounds::Range range) {
    return CLI::Validator(
        [range](std::string& text) -> std::string {
            const std::optional<long long> value = parse_text<long long>(text);
            if (value && *value >= range.min && *value <= range.max) return "";
            const bool digits = !text.empty() && text.find_first_not_of("-0123456789") == std::string::npos;
            return printable(text) + (digits ? " is out of range " : " is not a whole number; expected one in ") +
                   range_text(range);
        },
        range_text(range), "whole_in");
}

CLI::Validator finite_number() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            const std::optional<double> value = parse_text<double>(text);
            if (value && std::isfinite(*value)) return "";
            return printable(text) + " is not a finite number";
        },
        "NUMBER", "finite_number");
}

CLI::Validator real_in(bounds::RealRange range) {
    // The least positive double reads as "(0": what it means, not its 17 digits.
    const std::string lower = range.min == std::numeric_limits<double>::min() ? "(0" : "[" + format_number(range.min);
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            const std::optional<double> value = parse_text<double>(text);
            if (value && std::isfinite(*value) && *value >= range.min && *value <= range.max) return "";
            return printable(text) + " is not a finite number in " + lower + ", " + format_number(range.max) + "]";
        },
        "NUMBER", "real_in");
}

std::size_t MemLimit::resolve() const {
    if (bytes > 0) return bytes;
    return fraction > 0 ? static_cast<std::size_t>(fraction * available_memory_bytes()) : 0;
}

MemLimit parse_mem_limit(const std::string& text, const std::string& option) {
    const std::optional<MemLimit> limit = read_mem_limit(text);
    require(limit.has_value(), option + ": " + printable(text) + " is not " + kMemLimitExpected);
    return *limit;
}

CLI::Validator mem_limit_text() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            return read_mem_limit(text) ? "" : printable(text) + " is not " + kMemLimitExpected;
        },
        "BYTES or P%", "mem_limit");
}

}  // namespace trikv::cli
