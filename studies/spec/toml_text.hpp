#pragma once
// TOML text as trikv writes it: strings escaped so that any name or path parses back, and
// lists of numbers or strings (the resolved study, its point keys and its error messages).
#include <cstdio>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace trikv {

// A TOML basic string: quotes, backslashes and control characters escaped, so any --out or
// name makes a study TOML that parses back.
inline std::string toml_string(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

template <class T>
std::string toml_list(const std::vector<T>& values) {
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out << (i ? ", " : "");
        if constexpr (std::is_same_v<T, std::string>) out << toml_string(values[i]);
        else out << values[i];
    }
    out << "]";
    return out.str();
}

}  // namespace trikv
