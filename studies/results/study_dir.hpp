#pragma once
// A study directory that several processes may write at once (docs/reliability.md, "Study
// directories"): the processes of one study sharded over a cluster, or a second run started
// by mistake.
//   - A run lock (flock on a file in the directory, holding the holder's pid) stops the same
//     run from starting twice: the second refuses, naming the holder's pid, or waits.
//   - results.csv only changes under DIR/.results.lock, held for one append or rewrite: each
//     point is one fsync'ed append, so writers never drop each other's rows, and a point
//     another writer already recorded is not recorded again.
//   - Temporaries are only written under the lock that guards their target, so any temporary
//     found while holding that lock belongs to a writer that died: it is removed.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "studies/results/results.hpp"

namespace trikv {

// An exclusive flock on `file`, which is created if missing and then holds the holder's pid.
// Released when destroyed, or by the kernel when the process dies however it dies.
class FileLock {
public:
    enum class Busy { refuse, wait };
    // Busy::refuse throws trikv::Error naming the file and the holder's pid when it is held.
    FileLock(const std::filesystem::path& file, Busy busy);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

// Removes DIR/NAME.tmp.* and DIR/.NAME.tmp.* for every NAME in `targets` ("*" for every
// name). Call only while holding the lock every writer of those targets holds.
void remove_temporaries(const std::filesystem::path& dir, const std::vector<std::string>& targets);

// The results.csv of a study directory, read and changed only under DIR/.results.lock.
class ResultsFile {
public:
    enum class Recorded { appended, replaced, already_recorded };

    // OUT/results.csv, or `csv` when given (a shard's own file); the lock is the directory's.
    explicit ResultsFile(const std::filesystem::path& dir, const std::filesystem::path& csv = {});
    const std::filesystem::path& path() const { return csv_; }

    // Every row in the file (none if it does not exist yet).
    std::vector<ResultRow> read() const;
    // Records the rows of one point (its last row carries the point's key; var's per-scale rows
    // come before it). A point without rows is appended; a point whose rows are failed or
    // skipped has them replaced (atomic rewrite); a point another writer already measured
    // (status ok) is left as it is and these rows are dropped. A file in an older schema is
    // rewritten in the current one first.
    Recorded record(const std::vector<ResultRow>& rows) const;
    // Replaces the file's rows with change(rows now in it), read and written under the lock, so
    // no row another writer appends meanwhile is lost (a merge beside a running study).
    void rewrite(const std::function<std::vector<ResultRow>(std::vector<ResultRow> current)>& change) const;

private:
    std::filesystem::path dir_, csv_, lock_;
};

}  // namespace trikv
