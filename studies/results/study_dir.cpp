#include "studies/results/study_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "framework/error.hpp"
#include "framework/files.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

// The lock file's content, the holder's pid, for a message only: "" when it cannot be read.
std::string holder_pid(const fs::path& file) {
    constexpr std::uint64_t kMaxLockFileBytes = 64;  // a pid and a newline
    try {
        return read_regular_file(file, kMaxLockFileBytes);
    } catch (const Error&) {
        return "";
    }
}

// Writes all of `text` at the end of `file` and syncs it: one write call, so a process killed
// meanwhile leaves the row whole or absent.
void append_synced(const fs::path& file, const std::string& text) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    require(fd >= 0, file.string() + ": cannot open for appending: " + std::strerror(errno));
    const ssize_t written = ::write(fd, text.data(), text.size());
    const bool synced = written == ssize_t(text.size()) && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    require(synced, file.string() + ": cannot append a row: " + std::strerror(error));
}

}  // namespace

FileLock::FileLock(const fs::path& file, Busy busy) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    require(fd_ >= 0, file.string() + ": cannot open the lock file: " + std::strerror(errno));
    struct stat status {};
    if (::fstat(fd_, &status) != 0 || !S_ISREG(status.st_mode)) {
        ::close(fd_);
        throw Error(printable(file.string()) + ": the lock file is not a regular file; remove it");
    }
    if (::flock(fd_, LOCK_EX | (busy == Busy::refuse ? LOCK_NB : 0)) != 0) {
        const int error = errno;
        ::close(fd_);
        std::string holder = holder_pid(file);
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        require(error != EWOULDBLOCK, file.parent_path().string() + " is in use by another trikv process (pid " +
                                          (holder.empty() ? "unknown" : holder) + ", lock " + file.string() +
                                          "); wait for it to finish, or pass --wait to queue behind it");
        throw Error(file.string() + ": cannot lock: " + std::strerror(error));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    // The pid is for the message above only; the lock is the flock, so a failed write is harmless.
    if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) == ssize_t(pid.size())) ::fsync(fd_);
}

FileLock::~FileLock() {
    // Closing releases the flock; the file stays (removing it would race with a waiting locker).
    ::close(fd_);
}

void remove_temporaries(const fs::path& dir, const std::vector<std::string>& targets) {
    std::error_code error;
    for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        for (const std::string& target : targets) {
            const bool any = target == "*";
            const bool visible = any ? name.find(".tmp.") != std::string::npos : name.rfind(target + ".tmp.", 0) == 0;
            const bool hidden = any ? name[0] == '.' && visible : name.rfind("." + target + ".tmp.", 0) == 0;
            if (visible || hidden) {
                std::error_code ignored;
                fs::remove(it->path(), ignored);
                break;
            }
        }
    }
}

ResultsFile::ResultsFile(const fs::path& dir, const fs::path& csv)
    : dir_(dir), csv_(csv.empty() ? dir / "results.csv" : csv), lock_(dir / ".results.lock") {}

std::vector<ResultRow> ResultsFile::read() const {
    const FileLock lock(lock_, FileLock::Busy::wait);
    if (!fs::exists(fs::symlink_status(csv_))) return {};
    return read_results_csv(csv_);
}

void ResultsFile::rewrite(const std::function<std::vector<ResultRow>(std::vector<ResultRow> current)>& change) const {
    const FileLock lock(lock_, FileLock::Busy::wait);
    remove_temporaries(dir_, {"results.csv"});
    std::vector<ResultRow> current;
    if (fs::exists(fs::symlink_status(csv_))) current = read_results_csv(csv_);
    write_results_csv(csv_, change(std::move(current)));
}

ResultsFile::Recorded ResultsFile::record(const std::vector<ResultRow>& rows) const {
    require(!rows.empty(), "results: a point without rows");
    const std::string point = point_key_of(rows.back());
    const FileLock lock(lock_, FileLock::Busy::wait);
    remove_temporaries(dir_, {"results.csv"});  // every writer holds this lock: these are from dead ones

    std::string text;
    for (const ResultRow& row : rows) text += to_csv_line(row) + "\n";
    if (!fs::exists(fs::symlink_status(csv_))) {
        write_file_atomically(csv_, {csv_header(), "\n", text});
        return Recorded::appended;
    }
    ResultsTable table = read_results_table(csv_);
    bool present = false, measured = false;
    for (const ResultRow& row : table.rows)
        if (point_key_of(row) == point) {
            present = true;
            measured = measured || row.ok();
        }
    if (measured) return Recorded::already_recorded;
    if (!present && table.current_schema) {
        append_synced(csv_, (table.ends_with_newline ? "" : "\n") + text);
        return Recorded::appended;
    }
    std::erase_if(table.rows, [&](const ResultRow& row) { return point_key_of(row) == point; });
    table.rows.insert(table.rows.end(), rows.begin(), rows.end());
    write_results_csv(csv_, table.rows);
    return present ? Recorded::replaced : Recorded::appended;
}

}  // namespace trikv
