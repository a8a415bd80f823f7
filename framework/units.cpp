#include "framework/units.hpp"

#include <cmath>
#include <cstdio>

namespace trikv {
namespace {

// Three significant digits, trailing zeros dropped ("9.7", "139", "0.0123").
std::string significant(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", value);
    return text;
}

}  // namespace

std::string format_bytes(double bytes) {
    static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    if (!std::isfinite(bytes)) return significant(bytes) + " B";
    std::size_t unit = 0;
    double value = bytes;
    // Move up while the value would print as 1000 or more once rounded to three digits.
    while (unit + 1 < std::size(units) && std::abs(value) >= 999.5) {
        value /= 1000;
        ++unit;
    }
    return (unit == 0 ? std::to_string(std::llround(value)) : significant(value)) + " " + units[unit];
}

std::string format_milliseconds(double milliseconds) {
    if (!std::isfinite(milliseconds) || std::abs(milliseconds) < 999.5) return significant(milliseconds) + " ms";
    const double seconds = milliseconds / 1000;
    if (std::abs(seconds) < 999.5) return significant(seconds) + " s";
    return std::to_string(std::llround(seconds)) + " s";
}

}  // namespace trikv
