#pragma once
// Files trikv reads and writes, whatever the path names.
//
// Reading: only regular files. A FIFO would block forever and /dev/zero never ends, so both
// (and directories, sockets, devices) are refused with a one-line trikv::Error, checked on the
// opened descriptor (no window between the check and the read) and opened without blocking.
//
// Writing: atomic replacement. The target holds either its old content or the complete new
// one, never a torn file, whatever moment the process dies at (write a synced temporary in
// the same directory, then rename over the target). A symlink is written through: its target
// is replaced and the link stays.
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

namespace trikv {

// A regular file open for reading; throws trikv::Error naming the path if it cannot be opened
// or is anything but a regular file (after following symlinks).
class RegularFile {
public:
    explicit RegularFile(const std::filesystem::path& path);
    ~RegularFile();
    RegularFile(const RegularFile&) = delete;
    RegularFile& operator=(const RegularFile&) = delete;

    std::uint64_t size() const { return size_; }
    // Reads exactly `count` bytes at the current position; throws naming `what` on a short read.
    void read(void* destination, std::uint64_t count, const std::string& what);

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

// The whole content of a regular file of at most `max_bytes` bytes (else trikv::Error).
std::string read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// Writes the concatenation of `parts` to `path` atomically; throws trikv::Error naming the
// path on failure, after removing the temporary.
void write_file_atomically(const std::filesystem::path& path, std::initializer_list<std::string_view> parts);
inline void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
    write_file_atomically(path, {text});
}

// For outputs a user names (`attend --out`): a regular file or a new path is written
// atomically as above; a FIFO or a character device (a pipe behind /dev/stdout, /dev/null) is
// streamed to directly, deliberately, as there is nothing to replace. Anything else (a
// directory, a socket, a block device) is refused.
void write_output_file(const std::filesystem::path& path, std::initializer_list<std::string_view> parts);

}  // namespace trikv
