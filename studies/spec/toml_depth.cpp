#include "studies/spec/toml_depth.hpp"

#include <cctype>

#include "framework/error.hpp"

namespace trikv {
namespace {

bool digit_at(std::string_view text, std::size_t i) {
    return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
}

}  // namespace

void require_toml_depth(std::string_view text, const std::string& source) {
    std::size_t line = 1, brackets = 0, dots = 0;
    const auto check = [&] {
        require(brackets + dots < kMaxTomlDepth, source + ":" + std::to_string(line) + ": TOML nested deeper than " +
                                                     std::to_string(kMaxTomlDepth) + " levels (dotted keys, tables or arrays)");
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            dots = 0;  // a dotted key ends with its line; arrays may span lines
        } else if (c == '#') {
            while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
        } else if (c == '"' || c == '\'') {
            // Skips the string; """ and ''' span lines (counted), ' has no escapes.
            const bool multi = text.substr(i, 3) == std::string_view(std::string(3, c));
            const std::string_view close = multi ? text.substr(i, 3) : text.substr(i, 1);
            i += close.size();
            while (i < text.size() && text.substr(i, close.size()) != close && (multi || text[i] != '\n')) {
                if (text[i] == '\n') ++line;
                if (c == '"' && text[i] == '\\') ++i;
                ++i;
            }
            if (i < text.size() && text[i] == '\n') --i;  // an unclosed one-line string: the newline counts above
            else i += close.size() - 1;
        } else if (c == '[' || c == '{') {
            ++brackets;
            check();
        } else if ((c == ']' || c == '}') && brackets > 0) {
            --brackets;
        } else if (c == '.' && !(i > 0 && digit_at(text, i - 1) && digit_at(text, i + 1))) {
            ++dots;
            check();
        }
    }
}

}  // namespace trikv
