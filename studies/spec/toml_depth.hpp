#pragma once
// toml++ builds one table per dotted key part and per [header] part and frees them
// recursively: a header 50,000 keys deep overflows the stack. Every TOML file trikv reads
// (study files, shard state files) nests a few levels at most, so the text is checked for
// depth before it is parsed.
#include <cstddef>
#include <string>
#include <string_view>

namespace trikv {

// Deeper than any file trikv reads or writes by far (a study file's [[grid]] tables nest three).
inline constexpr std::size_t kMaxTomlDepth = 32;

// Throws trikv::Error "source:line: TOML nested deeper than kMaxTomlDepth levels" when a line's
// key (dotted parts) or a value (nested arrays and inline tables) nests deeper than the bound.
// Conservative: strings and comments are skipped; a dot between two digits is a number's.
void require_toml_depth(std::string_view text, const std::string& source);

}  // namespace trikv
