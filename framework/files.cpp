#include "framework/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "framework/error.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

Error file_error(const fs::path& path, const std::string& problem) { return Error(printable(path.string()) + ": " + problem); }

// "a FIFO", "a directory", ... for messages refusing a file by its type.
const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

// The file a chain of symlinks ends at (which need not exist yet); `path` itself if it is none.
fs::path through_symlinks(fs::path path) {
    constexpr int kMaxHops = 40;  // Linux's own limit (ELOOP)
    for (int hop = 0; hop < kMaxHops; ++hop) {
        std::error_code error;
        if (!fs::is_symlink(fs::symlink_status(path, error))) return path;
        const fs::path target = fs::read_symlink(path, error);
        if (error) throw file_error(path, "cannot read symlink: " + error.message());
        path = target.is_absolute() ? target : path.parent_path() / target;
    }
    throw file_error(path, "more than 40 levels of symlinks");
}

// Unique per process and call, and in the target's directory so the rename stays on one filesystem.
fs::path temporary_path_for(const fs::path& target) {
    static std::atomic<unsigned> counter{0};
    fs::path temporary = target;
    temporary += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    return temporary;
}

// Writes every part to an open stream; false on a short write.
bool write_parts(std::FILE* out, std::initializer_list<std::string_view> parts) {
    bool written = true;
    for (std::string_view part : parts)
        written = written && (part.empty() || std::fwrite(part.data(), 1, part.size(), out) == part.size());
    return written && std::fflush(out) == 0;
}

// Writes and fsyncs a fresh file, so the rename that follows publishes complete data even across a crash.
void write_synced(const fs::path& target, const fs::path& file, std::initializer_list<std::string_view> parts) {
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (out == nullptr)
        throw file_error(target, "cannot create temporary file " + printable(file.string()) + ": " + std::strerror(errno));
    const bool written = write_parts(out, parts) && ::fsync(::fileno(out)) == 0;
    const int write_errno = errno;
    const bool closed = std::fclose(out) == 0;
    if (!written || !closed)
        throw file_error(target, "cannot write temporary file " + printable(file.string()) + ": " +
                                     std::strerror(written ? errno : write_errno));
}

void stream_to(const fs::path& path, std::initializer_list<std::string_view> parts) {
    std::FILE* out = std::fopen(path.c_str(), "wb");  // a FIFO waits here for its reader, as it should
    if (out == nullptr) throw file_error(path, std::string("cannot open for writing: ") + std::strerror(errno));
    const bool written = write_parts(out, parts);
    const int write_errno = errno;
    const bool closed = std::fclose(out) == 0;
    if (!written || !closed) throw file_error(path, std::string("write failed: ") + std::strerror(written ? errno : write_errno));
}

}  // namespace

RegularFile::RegularFile(const fs::path& path) : path_(path) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, before fstat could refuse it.
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw file_error(path, std::string("cannot open file for reading: ") + std::strerror(errno));
    struct stat status {};
    std::string problem;
    if (::fstat(fd_, &status) != 0) problem = std::string("cannot stat: ") + std::strerror(errno);
    else if (!S_ISREG(status.st_mode)) problem = std::string("is ") + kind_of(status.st_mode) + ", not a regular file";
    if (!problem.empty()) {
        ::close(fd_);
        throw file_error(path, problem);
    }
    size_ = static_cast<std::uint64_t>(status.st_size);
}

RegularFile::~RegularFile() { ::close(fd_); }

void RegularFile::read(void* destination, std::uint64_t count, const std::string& what) {
    auto* bytes = static_cast<char*>(destination);
    std::uint64_t done = 0;
    while (done < count) {
        const ssize_t got = ::read(fd_, bytes + done, count - done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            throw file_error(path_, "read error while reading " + what + ": got " + std::to_string(done) + " of " +
                                        std::to_string(count) + " bytes (" +
                                        (got < 0 ? std::strerror(errno) : "the file changed") + ")");
        done += static_cast<std::uint64_t>(got);
    }
}

std::string read_regular_file(const fs::path& path, std::uint64_t max_bytes) {
    RegularFile file(path);
    if (file.size() > max_bytes)
        throw file_error(path, std::to_string(file.size()) + " bytes, more than the " + std::to_string(max_bytes) +
                                   " this file may hold");
    std::string text(file.size(), '\0');
    file.read(text.data(), text.size(), "the file");
    return text;
}

void write_file_atomically(const fs::path& path, std::initializer_list<std::string_view> parts) {
    const fs::path target = through_symlinks(path);
    const fs::path temporary = temporary_path_for(target);
    try {
        write_synced(target, temporary, parts);
        std::error_code error;
        fs::rename(temporary, target, error);
        if (error)
            throw file_error(target, "cannot rename temporary file " + printable(temporary.string()) + " onto it: " +
                                         error.message());
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);  // never leave a partial file behind
        throw;
    }
}

void write_output_file(const fs::path& path, std::initializer_list<std::string_view> parts) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0 || S_ISREG(status.st_mode)) return write_file_atomically(path, parts);
    if (S_ISFIFO(status.st_mode) || S_ISCHR(status.st_mode)) return stream_to(path, parts);
    throw file_error(path, std::string("is ") + kind_of(status.st_mode) + "; give a file path");
}

}  // namespace trikv
