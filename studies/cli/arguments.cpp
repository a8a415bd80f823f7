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

CLI::Validator mem_limit_text() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            try {
                parse_mem_limit(text, "");
            } catch (const Error& e) {
                return std::string(e.what()).substr(2);  // without the empty field's ": "
            }
            return "";
        },
        "BYTES or P%", "mem_limit");
}

}  // namespace trikv::cli
