#include "studies/study_runner.hpp"

#include <cblas.h>
#include <tbb/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <xtensor/xtensor_config.hpp>

#include "framework/error.hpp"
#include "framework/files.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"
#include "studies/build_info.hpp"
#include "studies/figures.hpp"
#include "studies/measure.hpp"
#include "studies/pareto.hpp"
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

std::string metadata_json(const StudySpec& spec, const MachinePeaks& peaks, double mem_limit, const std::string& state) {
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
    void finish(std::size_t index, const ResultRow& row) {
        ++done_;
        std::ostringstream line;
        line << "[" << index + 1 << "/" << total_ << "] " << row.cache << (row.workload == "var" ? " var" : "")
             << " n=" << row.n << " d=" << row.d << " h=" << row.heads
             << (row.data == "gaussian" ? "" : " " + row.data) << ": " << row.status;
        if (row.ok()) line << ", " << row.step_ms_median << " ms/step, " << row.bytes << " B, rel err " << row.rel_l2_error;
        else line << " (" << row.reason << ")";
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
                  << "/" << total_ << " ETA " << int(eta) << "s " << what << std::flush;
    }

    std::size_t total_, done_ = 0;
    bool terminal_;
    Stopwatch clock_;
};

std::vector<ResultRow> existing_rows(const fs::path& csv) {
    if (!fs::exists(csv)) return {};
    return read_results_csv(csv);  // a malformed file stops the study: never overwrite what exists
}

}  // namespace

StudySummary run_study(const StudySpec& input, std::optional<MachinePeaks> known_peaks, const StudyScope& scope) {
    StudySpec spec = input;
    if (spec.out.empty()) spec.out = "results/" + spec.name;
    validate_study(spec);
    ThreadControl threads(spec.threads);
    std::vector<StudyPoint> points = expand_study(spec);
    if (scope.includes) std::erase_if(points, [&](const StudyPoint& p) { return !scope.includes(p); });

    const fs::path out = spec.out;
    std::error_code error;
    fs::create_directories(out, error);
    require(!error, "study: out = '" + spec.out + "': cannot create directory: " + error.message());
    const fs::path csv = scope.results_csv.empty() ? out / "results.csv" : scope.results_csv;
    std::vector<ResultRow> rows = existing_rows(csv);
    std::set<std::string> done;
    for (const ResultRow& row : rows) done.insert(row.key);

    const double mem_limit = spec.mem_limit > 0 ? spec.mem_limit : spec.mem_limit_fraction * available_memory_bytes();
    const auto finished = std::count_if(points.begin(), points.end(), [&](const StudyPoint& p) { return done.count(p.key()); });
    std::cerr << "study '" << spec.name << "': " << points.size() << " points (" << finished << " already in "
              << csv.string() << ")\n";
    MachinePeaks peaks{0, 0, threads.threads()};
    if (known_peaks) peaks = *known_peaks;
    else if (spec.measure_peaks) peaks = measure_machine_peaks(threads.threads());
    std::cerr << "peaks: SGEMM " << peaks.sgemm_gflops << " GFLOP/s, read " << peaks.read_gbps << " GB/s\n";
    if (scope.final_outputs) write_file_atomically(out / "results.json", metadata_json(spec, peaks, mem_limit, "running"));

    StudySummary summary;
    summary.points = points.size();
    summary.out_dir = out.string();
    Progress progress(points.size());
    const std::string host = host_name();
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (done.count(points[i].key())) {
            ++summary.resumed;
            continue;
        }
        progress.start(i, points[i].describe());
        // Every row of a point is written together: a point is either in the file or not.
        std::vector<ResultRow> measured = measure_point(points[i], peaks, mem_limit);
        for (ResultRow& row : measured) row.host = host;
        const ResultRow& row = measured.back();  // the point's own row (var: the whole generation)
        summary.measured += row.ok();
        summary.skipped += row.status == "skipped";
        summary.failed += row.status == "failed";
        rows.insert(rows.end(), measured.begin(), measured.end());
        done.insert(points[i].key());
        write_results_csv(csv, rows);
        progress.finish(i, row);
    }
    if (!scope.final_outputs) return summary;

    write_pareto_csv(out / "pareto.csv", pareto_fronts(rows));
    const FigureReport figures = write_figures(out / "figures", rows, spec.figures);
    for (const std::string& note : figures.notes) std::cerr << "figures: " << note << "\n";
    write_file_atomically(out / "results.json", metadata_json(spec, peaks, mem_limit, "complete"));
    return summary;
}

}  // namespace trikv
