#include "studies/study_runner.hpp"

#include <cblas.h>
#include <tbb/version.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <xtensor/xtensor_config.hpp>

#include "framework/error.hpp"
#include "framework/files.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "framework/units.hpp"
#include "studies/build_info.hpp"
#include "studies/figures.hpp"
#include "studies/measure.hpp"
#include "studies/pareto.hpp"
#include "studies/study_dir.hpp"
#include "studies/provenance.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

std::string metadata_json(const StudySpec& spec, const MachinePeaks& peaks, double mem_limit, const std::string& state,
                          std::size_t rows_not_in_study, const std::vector<std::string>& figure_notes = {}) {
    std::string notes;
    for (const std::string& note : figure_notes) notes += (notes.empty() ? "" : ", ") + json_string(note);
    std::ostringstream out;
    out << "{\n"
        << "  \"state\": " << json_string(state) << ",\n"
        << "  \"date\": " << json_string(now_utc()) << ",\n"
        << "  \"host\": " << json_string(host_name()) << ",\n"
        << "  \"cpu\": " << json_string(cpu_model()) << ",\n"
        << "  \"threads\": " << peaks.threads << ",\n"
        << "  \"compiler\": " << json_string(std::string("g++ ") + __VERSION__) << ",\n"
        << "  \"build_flags\": " << json_string(TRIKV_BUILD_FLAGS) << ",\n"
        << "  \"git_commit\": " << json_string(TRIKV_GIT_COMMIT) << ",\n"
        << "  \"libraries\": {\"xtensor\": \"" << XTENSOR_VERSION_MAJOR << "." << XTENSOR_VERSION_MINOR << "."
        << XTENSOR_VERSION_PATCH << "\", \"onetbb\": \"" << TBB_VERSION_MAJOR << "." << TBB_VERSION_MINOR
        << "\", \"openblas\": " << json_string(openblas_get_config()) << "},\n"
        << "  \"peaks\": {\"sgemm_gflops\": " << peaks.sgemm_gflops << ", \"read_gbps\": " << peaks.read_gbps << "},\n"
        << "  \"mem_limit_bytes\": " << static_cast<long long>(mem_limit) << ",\n"
        << "  \"rows_not_in_study\": " << rows_not_in_study << ",\n"
        << "  \"figure_notes\": [" << notes << "],\n"
        << "  \"study_toml\": " << json_string(to_toml(spec)) << "\n}\n";
    return out.str();
}

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
// absent; a rewrite's temporary is removed by the next run.
class InterruptRecorder {
public:
    InterruptRecorder(const fs::path& json, const std::string& text) {
        json_ = json.string();
        temporary_ = json_ + ".tmp." + std::to_string(::getpid()) + ".interrupted";
        text_ = text;
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

private:
    static void handle(int signal) {
        const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            const bool written = ::write(fd, text_.data(), text_.size()) == ssize_t(text_.size()) && ::fsync(fd) == 0;
            ::close(fd);
            if (written) ::rename(temporary_.c_str(), json_.c_str());
        }
        ::_exit(128 + signal);
    }

    static inline std::string json_, temporary_, text_;
    struct sigaction previous_int_ {}, previous_term_ {};
};

struct Resolved {
    StudySpec spec;
    std::vector<StudyPoint> points;
    fs::path out;
};

Resolved resolve(const StudySpec& input) {
    Resolved resolved{input, {}, {}};
    if (resolved.spec.out.empty()) resolved.spec.out = "results/" + resolved.spec.name;
    validate_study(resolved.spec);
    resolved.points = expand_study(resolved.spec);
    resolved.out = resolved.spec.out;
    std::error_code error;
    fs::create_directories(resolved.out, error);
    require(!error, "study: out = '" + resolved.spec.out + "': cannot create directory: " + error.message());
    return resolved;
}

FileLock run_lock(const Resolved& study, const std::string& name, bool wait) {
    return FileLock(study.out / name, wait ? FileLock::Busy::wait : FileLock::Busy::refuse);
}

// pareto.csv, figures/ and results.json ("complete") from the study's own rows; the caller
// holds the run lock. Returns the number of rows of points no longer in the study.
std::size_t write_outputs(const Resolved& study, const MachinePeaks& peaks, double mem_limit) {
    remove_temporaries(study.out, {"results.json", "pareto.csv"});
    if (fs::is_directory(study.out / "figures")) remove_temporaries(study.out / "figures", {"*"});
    std::set<std::string> keys;
    for (const StudyPoint& point : study.points) keys.insert(point.key());
    std::vector<ResultRow> rows = ResultsFile(study.out).read();
    const std::size_t stale = std::erase_if(rows, [&](const ResultRow& row) { return !keys.count(point_key_of(row)); });
    if (stale) std::cerr << "study: " << stale << " rows of results.csv belong to points no longer in the study; "
                         << "they stay in results.csv but are left out of pareto.csv and the figures\n";
    write_pareto_csv(study.out / "pareto.csv", pareto_fronts(rows));
    const FigureReport figures = write_figures(study.out / "figures", rows, study.spec.figures);
    for (const std::string& note : figures.notes) std::cerr << "figures: " << note << "\n";
    write_file_atomically(study.out / "results.json", metadata_json(study.spec, peaks, mem_limit, "complete", stale, figures.notes));
    return stale;
}

double memory_limit(const StudySpec& spec) {
    return spec.mem_limit > 0 ? spec.mem_limit : spec.mem_limit_fraction * available_memory_bytes();
}

}  // namespace

StudySummary run_study(const StudySpec& input, const StudyOptions& options) {
    const Resolved study = resolve(input);
    const StudySpec& spec = study.spec;
    ThreadControl threads(spec.threads);
    const FileLock lock = run_lock(study, options.lock_name, options.wait_for_lock);
    const ResultsFile results(study.out, options.results_csv);
    std::map<std::string, PointStatus> recorded;  // point key → status of its row
    for (const ResultRow& row : results.read())
        if (row.key == point_key_of(row)) recorded[row.key] = row.status;

    const double mem_limit = memory_limit(spec);
    const auto finished = std::count_if(study.points.begin(), study.points.end(), [&](const StudyPoint& p) {
        const auto found = recorded.find(p.key());
        return found != recorded.end() && found->second == PointStatus::ok;
    });
    std::cerr << "study '" << spec.name << "': " << study.points.size() << " points (" << finished
              << " already measured in " << results.path().string() << ")\n";
    MachinePeaks peaks{0, 0, threads.threads()};
    if (options.peaks) peaks = *options.peaks;
    else if (spec.measure_peaks) peaks = measure_machine_peaks(threads.threads());
    std::cerr << "peaks: SGEMM " << peaks.sgemm_gflops << " GFLOP/s, read " << peaks.read_gbps << " GB/s\n";
    std::optional<InterruptRecorder> interrupts;
    if (options.write_outputs) {
        remove_temporaries(study.out, {"results.json"});
        write_file_atomically(study.out / "results.json", metadata_json(spec, peaks, mem_limit, "running", 0));
        interrupts.emplace(study.out / "results.json", metadata_json(spec, peaks, mem_limit, "interrupted", 0));
    }

    StudySummary summary;
    summary.points = study.points.size();
    summary.out_dir = study.out.string();
    Progress progress(study.points.size());
    const std::string host = host_name();
    for (std::size_t i = 0; i < study.points.size(); ++i) {
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
    if (options.write_outputs) summary.stale_rows = write_outputs(study, peaks, mem_limit);
    return summary;
}

std::size_t finish_study(const StudySpec& spec, const StudyOptions& options) {
    const Resolved study = resolve(spec);
    const FileLock lock = run_lock(study, options.lock_name, true);
    return write_outputs(study, options.peaks.value_or(MachinePeaks{}), memory_limit(study.spec));
}

}  // namespace trikv
