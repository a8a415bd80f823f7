#include "studies/run/study_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "framework/error.hpp"
#include "framework/files.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "framework/units.hpp"
#include "studies/measure/measure.hpp"
#include "studies/run/finish.hpp"
#include "studies/results/study_dir.hpp"
#include "studies/results/provenance.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

// Progress on stderr: a redrawn bar on a terminal, one plain line per point otherwise.
class Progress {
public:
    explicit Progress(std::size_t total) : total_(total), terminal_(::isatty(STDERR_FILENO)) {}

    void start(std::size_t index, const std::string& what) {
        if (terminal_) draw(index, "running " + what);
    }
    void finish(std::size_t index, const StudyPoint& point, const ResultRow& row, const std::string& note) {
        ++done_;
        std::ostringstream line;
        line << "[" << index + 1 << "/" << total_ << "] " << point.describe() << ": " << name_of(row.status);
        if (row.ok())
            line << ", " << format_milliseconds(row.step_ms_median) << "/step, " << format_bytes(row.bytes)
                 << ", rel err " << row.rel_l2_error;
        else line << " (" << row.reason << ")";
        line << note;
        if (terminal_) std::cerr << "\r\033[K";
        std::cerr << line.str() << "\n";
        if (terminal_) draw(index + 1, "");
    }

private:
    void draw(std::size_t index, const std::string& what) {
        const double elapsed = clock_.seconds();
        const double eta = done_ ? elapsed / double(done_) * double(total_ - index) : 0;
        const int width = 30, filled = int(width * double(index) / double(std::max<std::size_t>(total_, 1)));
        std::cerr << "\r\033[K[" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << index
                  << "/" << total_ << " ETA " << format_milliseconds(eta * 1e3) << " " << what << std::flush;
    }

    std::size_t total_, done_ = 0;
    bool terminal_;
    Stopwatch clock_;
};

// While alive, SIGINT and SIGTERM record state "interrupted" in results.json and end the
// process at once (status 128 + signal), whatever it is computing: the handler only makes
// async-signal-safe calls on text prepared beforehand. A row being appended is whole or
// absent; a rewrite's temporary is removed by the next run. With `throws` (in process), the
// first SIGINT only records and raises requested(); the runner throws between points.
class InterruptRecorder {
public:
    InterruptRecorder(const fs::path& json, const std::string& text, bool throws) {
        json_ = json.string();
        temporary_ = json_ + ".tmp." + std::to_string(::getpid()) + ".interrupted";
        text_ = text;
        throws_ = throws;
        requested_ = 0;
        static_assert(std::atomic<int>::is_always_lock_free);
        struct sigaction action {};
        action.sa_handler = &InterruptRecorder::handle;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, &previous_int_);
        ::sigaction(SIGTERM, &action, &previous_term_);
    }
    ~InterruptRecorder() {
        ::sigaction(SIGINT, &previous_int_, nullptr);
        ::sigaction(SIGTERM, &previous_term_, nullptr);
    }
    InterruptRecorder(const InterruptRecorder&) = delete;
    InterruptRecorder& operator=(const InterruptRecorder&) = delete;

    static bool requested() { return requested_ != 0; }

private:
    static void handle(int signal) {
        const bool again = requested_ != 0;
        if (!again) {
            const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                const bool written = ::write(fd, text_.data(), text_.size()) == ssize_t(text_.size()) && ::fsync(fd) == 0;
                ::close(fd);
                if (written) ::rename(temporary_.c_str(), json_.c_str());
            }
        }
        requested_ = 1;
        if (!throws_ || signal != SIGINT || again) ::_exit(128 + signal);
    }

    static inline std::string json_, temporary_, text_;
    static inline bool throws_ = false;
    static inline std::atomic<int> requested_{0};  // lock-free: safe in a handler, seen by every thread
    struct sigaction previous_int_ {}, previous_term_ {};
};

struct Resolved {
    StudySpec spec;
    std::vector<StudyPoint> points;
    fs::path out;
};

Resolved resolve(const StudySpec& input, const std::optional<std::vector<StudyPoint>>& expanded) {
    Resolved resolved{input, {}, {}};
    if (resolved.spec.out.empty()) resolved.spec.out = "results/" + resolved.spec.name;
    validate_study(resolved.spec);
    resolved.points = expanded ? *expanded : expand_study(resolved.spec);
    resolved.out = resolved.spec.out;
    std::error_code error;
    fs::create_directories(resolved.out, error);
    require(!error, "study: out = '" + resolved.spec.out + "': cannot create directory: " + error.message());
    return resolved;
}

FileLock run_lock(const Resolved& study, const std::string& name, bool wait) {
    return FileLock(study.out / name, wait ? FileLock::Busy::wait : FileLock::Busy::refuse);
}

// pareto.csv, figures/ and results.json from the study's own rows (finish_study); the caller
// holds the run lock. Returns the number of rows of points no longer in the study.
std::size_t write_outputs(const Resolved& study, const Provenance& finisher, double mem_limit) {
    StudyRecord record{.provenance = {finisher}, .mem_limit_bytes = mem_limit};
    finish_study(study.spec, study.points, ResultsFile(study.out).read(), finisher, record);
    return record.rows_not_in_study;
}

}  // namespace

StudySummary run_study(const StudySpec& input, const StudyOptions& options) {
    const Resolved study = resolve(input, options.points);
    const StudySpec& spec = study.spec;
    ThreadControl threads(spec.threads);
    const FileLock lock = run_lock(study, options.lock_name, options.wait_for_lock);
    const ResultsFile results(study.out, options.results_csv);
    std::map<std::string, PointStatus> recorded;  // point key → status of its row
    for (const ResultRow& row : results.read())
        if (row.key == point_key_of(row)) recorded[row.key] = row.status;

    const double mem_limit = memory_limit(spec.mem_limit);
    const auto finished = std::count_if(study.points.begin(), study.points.end(), [&](const StudyPoint& p) {
        const auto found = recorded.find(p.key());
        return found != recorded.end() && found->second == PointStatus::ok;
    });
    std::cerr << "study '" << without_controls(spec.name) << "': " << study.points.size() << " points (" << finished
              << " already measured in " << without_controls(results.path().string()) << ")\n";
    MachinePeaks peaks{0, 0, threads.threads()};
    if (options.peaks) peaks = *options.peaks;
    else if (spec.measure_peaks) peaks = measure_machine_peaks(threads.threads());
    std::cerr << "peaks: SGEMM " << peaks.sgemm_gflops << " GFLOP/s, read " << peaks.read_gbps << " GB/s\n";
    std::optional<InterruptRecorder> interrupts;
    const Provenance finisher = this_process(peaks);
    if (options.write_outputs) {
        const auto state = [&](const char* name) {
            return results_json(spec, finisher, {.state = name, .provenance = {finisher}, .mem_limit_bytes = mem_limit});
        };
        remove_temporaries(study.out, {"results.json"});
        // The recorder first: a signal that comes as soon as "running" is on disk (a watcher may
        // send it then) finds the handler in place, not the default action that would leave
        // "running" behind. One caught in process while "running" is written is recorded again.
        interrupts.emplace(study.out / "results.json", state("interrupted"), options.interrupt_throws);
        write_file_atomically(study.out / "results.json", state("running"));
        if (interrupts->requested()) write_file_atomically(study.out / "results.json", state("interrupted"));
    }

    StudySummary summary;
    summary.points = study.points.size();
    summary.out_dir = study.out.string();
    Progress progress(study.points.size());
    const std::string host = host_name();
    for (std::size_t i = 0; i < study.points.size(); ++i) {
        if (interrupts && interrupts->requested()) throw StudyInterrupted();
        const StudyPoint& point = study.points[i];
        if (options.measures && !options.measures(i, point)) {
            ++summary.elsewhere;
            continue;
        }
        const auto before = recorded.find(point.key());
        if (before != recorded.end() && before->second == PointStatus::ok) {
            ++summary.resumed;
            continue;
        }
        progress.start(i, point.describe());
        std::vector<ResultRow> rows = measure_point(point, peaks, mem_limit);
        for (ResultRow& row : rows) row.host = host;
        const ResultRow& row = rows.back();  // the point's own row (var: the whole generation)
        const ResultsFile::Recorded outcome = results.record(rows);
        if (outcome == ResultsFile::Recorded::already_recorded) {
            ++summary.resumed;
            progress.finish(i, point, row, " (another process recorded it first; its row is kept)");
            continue;
        }
        summary.measured += row.ok();
        summary.skipped += row.status == PointStatus::skipped;
        summary.failed += row.status == PointStatus::failed;
        progress.finish(i, point, row, "");
    }
    if (interrupts && interrupts->requested()) throw StudyInterrupted();
    if (options.write_outputs) summary.stale_rows = write_outputs(study, finisher, mem_limit);
    return summary;
}

}  // namespace trikv
