#include "framework/files.hpp"

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

// Unique per process and call, and in the target's directory so the rename stays on one filesystem.
fs::path temporary_path_for(const fs::path& target) {
    static std::atomic<unsigned> counter{0};
    fs::path temporary = target;
    temporary += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    return temporary;
}

// Writes and fsyncs a fresh file, so the rename that follows publishes complete data even across a crash.
void write_synced(const fs::path& target, const fs::path& file, std::initializer_list<std::string_view> parts) {
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (out == nullptr)
        throw Error(target.string() + ": cannot create temporary file " + file.string() + ": " + std::strerror(errno));
    bool written = true;
    for (std::string_view part : parts)
        written = written && (part.empty() || std::fwrite(part.data(), 1, part.size(), out) == part.size());
    written = written && std::fflush(out) == 0 && ::fsync(::fileno(out)) == 0;
    const int write_errno = errno;
    const bool closed = std::fclose(out) == 0;
    if (!written || !closed)
        throw Error(target.string() + ": cannot write temporary file " + file.string() + ": " +
                    std::strerror(written ? errno : write_errno));
}

}  // namespace

void write_file_atomically(const fs::path& path, std::initializer_list<std::string_view> parts) {
    const fs::path temporary = temporary_path_for(path);
    try {
        write_synced(path, temporary, parts);
        std::error_code error;
        fs::rename(temporary, path, error);
        if (error)
            throw Error(path.string() + ": cannot rename temporary file " + temporary.string() + " onto it: " +
                        error.message());
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);  // never leave a partial file behind
        throw;
    }
}

}  // namespace trikv
