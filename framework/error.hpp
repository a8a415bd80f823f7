#pragma once
// One exception type for every user-facing failure. The message is a single line that names
// the field, the value and what was expected, so a CLI can print it verbatim and exit 2.
#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace trikv {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A cache refused to grow past its memory limit (Cache::set_memory_limit). A kind of Error, so
// the CLI prints it like any other; bindings can tell it apart (Python raises MemoryError).
class MemoryLimitError : public Error {
public:
    using Error::Error;
};

// Throws Error(message) unless `condition` holds. Keeps validation code one line per rule.
inline void require(bool condition, const std::string& message) {
    if (!condition) throw Error(message);
}

// How much of an untrusted value (a spec, a path, file content) a message shows.
inline constexpr std::size_t kMaxShownChars = 160;

// Untrusted text on one bounded line: bytes outside printable ASCII become \xNN (so a newline
// cannot split the message) and text past `max_shown` bytes is cut with "...".
inline std::string printable(std::string_view text, std::size_t max_shown = kMaxShownChars) {
    std::string out;
    for (const char c : text.substr(0, max_shown)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            std::array<char, 5> escaped{};
            std::snprintf(escaped.data(), escaped.size(), "\\x%02x", byte);
            out += escaped.data();
        }
    }
    if (text.size() > max_shown) out += "...";
    return out;
}

// Text for a terminal: control characters (a newline, an escape sequence's ESC) as \xNN, every
// other byte kept, so UTF-8 such as "≥" stays readable. For text printed whole (status lines,
// error messages); printable() is for quoting a bounded piece of a value.
inline std::string without_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        out += byte < 0x20 || byte == 0x7f ? printable(std::string_view(&c, 1)) : std::string(1, c);
    }
    return out;
}

// Levenshtein distance, for suggesting the name a misspelt one was meant to be.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// " (did you mean 'factor'?)" for the known name within two edits of `given`, else "".
// Names far longer than any known one are not compared (they cannot be within two edits).
inline std::string did_you_mean(std::string_view given, const std::vector<std::string>& known) {
    constexpr std::size_t kMaxEdits = 2;
    const std::string* best = nullptr;
    std::size_t best_distance = kMaxEdits + 1;
    for (const std::string& name : known) {
        if (given.size() > name.size() + kMaxEdits || name.size() > given.size() + kMaxEdits) continue;
        const std::size_t distance = edit_distance(given, name);
        if (distance < best_distance) {
            best = &name;
            best_distance = distance;
        }
    }
    return best ? " (did you mean '" + *best + "'?)" : "";
}

}  // namespace trikv
