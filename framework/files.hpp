#pragma once
// Atomic file replacement: the target holds either its old content or the complete new one,
// never a torn file, whatever moment the process dies at (write a synced temporary in the
// same directory, then rename over the target).
#include <filesystem>
#include <initializer_list>
#include <string_view>

namespace trikv {

// Writes the concatenation of `parts` to `path` atomically; throws trikv::Error naming the
// path on failure, after removing the temporary.
void write_file_atomically(const std::filesystem::path& path, std::initializer_list<std::string_view> parts);
inline void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
    write_file_atomically(path, {text});
}

}  // namespace trikv
