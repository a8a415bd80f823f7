#pragma once
// One exception type for every user-facing failure. The message is a single line that names
// the field, the value and what was expected, so a CLI can print it verbatim and exit 2.
#include <stdexcept>
#include <string>

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

}  // namespace trikv
