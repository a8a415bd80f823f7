#include "studies/spec/bounds.hpp"

#include <charconv>
#include <cmath>

#include "framework/error.hpp"
#include "framework/text.hpp"

namespace trikv::bounds {
namespace {

// The whole text as a number (from_chars: no spaces, no trailing text), or false.
template <class T>
bool parse_whole_text(const std::string& text, T& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string range_text(Range range) { return "[" + std::to_string(range.min) + ", " + std::to_string(range.max) + "]"; }

std::string range_text(RealRange range) {
    // The least positive double reads as "(0": what it means, not its 17 digits.
    const std::string lower = range.min == std::numeric_limits<double>::min() ? "(0" : "[" + format_number(range.min);
    return lower + ", " + format_number(range.max) + "]";
}

std::optional<long long> whole_in(const std::string& text, Range range) {
    long long value = 0;
    if (parse_whole_text(text, value) && value >= range.min && value <= range.max) return value;
    return std::nullopt;
}

std::string whole_problem(const std::string& text, Range range) {
    const bool digits = !text.empty() && text.find_first_not_of("-0123456789") == std::string::npos;
    return printable(text) + (digits ? " is out of range " : " is not a whole number; expected one in ") + range_text(range);
}

std::optional<double> real_in(const std::string& text, RealRange range) {
    double value = 0;
    if (parse_whole_text(text, value) && std::isfinite(value) && value >= range.min && value <= range.max) return value;
    return std::nullopt;
}

std::string real_problem(const std::string& text, RealRange range) {
    return printable(text) + " is not a finite number in " + range_text(range);
}

}  // namespace trikv::bounds
