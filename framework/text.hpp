#pragma once
// Text every layer builds the same way: lists joined with a separator, and numbers in their
// shortest round-trip form (the form results.csv, point keys and resolved study files store,
// so a number written and read back is the same number).
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace trikv {

inline std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += separator;  // also after an empty item: join({"", "a"}, ",") is ",a"
        out += items[i];
    }
    return out;
}

// "0.1", "1e+06", "0.123456789": the shortest text that reads back as `value`.
inline std::string shortest_text(double value) {
    char text[32];
    return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

// The same, but whole numbers in fixed notation ("1048576", not "1.048576e+06"): how cache specs
// spell their parameters in canonical form (and so in point keys) and how messages name ranges.
inline std::string format_number(double value) {
    char text[32];
    const bool whole = value == std::floor(value) && std::fabs(value) < 1e18;
    const auto end = whole ? std::to_chars(text, text + sizeof text, value, std::chars_format::fixed).ptr
                           : std::to_chars(text, text + sizeof text, value).ptr;
    return std::string(text, end);
}

}  // namespace trikv
