#include "studies/run/finish.hpp"

#include <cblas.h>
#include <tbb/version.h>

#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <xtensor/xtensor_config.hpp>

#include "framework/files.hpp"
#include "studies/figures/figures.hpp"
#include "studies/results/build_info.hpp"
#include "studies/results/pareto.hpp"
#include "studies/results/provenance.hpp"
#include "studies/results/study_dir.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

std::string host_of(const ResultRow& row) { return row.host.empty() ? "unknown" : row.host; }

// A host name as a directory name: letters, digits, '.', '_' and '-' kept, others become '_'.
std::string directory_name(std::string host) {
    for (char& c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
    return host == "." || host == ".." ? "_" : host;
}

std::string provenance_json(const Provenance& p) {
    std::ostringstream out;
    out << "{\"host\": " << json_string(p.host) << ", \"cpu\": " << json_string(p.cpu)
        << ", \"compiler\": " << json_string(p.compiler) << ", \"build_flags\": " << json_string(p.build_flags)
        << ", \"git_commit\": " << json_string(p.git_commit) << ", \"threads\": " << p.threads
        << ", \"peaks\": {\"sgemm_gflops\": " << p.sgemm_gflops << ", \"read_gbps\": " << p.read_gbps << "}}";
    return out.str();
}

std::string json_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ",\n    " : "\n    ") + items[i];
    return out + (items.empty() ? "]" : "\n  ]");
}

// pareto.csv and figures/ from the study's rows: one front and one set of figures per host.
void write_fronts_and_figures(const fs::path& out, const std::vector<ResultRow>& rows, const StudySpec& spec,
                              StudyRecord& record) {
    std::map<std::string, std::vector<ResultRow>> rows_of_host;
    for (const ResultRow& row : rows) rows_of_host[host_of(row)].push_back(row);
    std::vector<ParetoPoint> fronts;
    std::vector<std::string> figure_notes;
    if (rows_of_host.size() <= 1) {
        fronts = pareto_fronts(rows);
        figure_notes = write_figures(out / "figures", rows, spec.figures).notes;
    } else {
        std::string hosts;
        for (const auto& [host, host_rows] : rows_of_host) hosts += (hosts.empty() ? "" : ", ") + host;
        record.notes.push_back("points measured on " + std::to_string(rows_of_host.size()) + " machines (" + hosts +
                               "): fronts are computed per machine (pareto.csv's host column) and figures drawn "
                               "per machine in figures/HOST/; no front joins points of different machines");
        for (const auto& [host, host_rows] : rows_of_host) {
            for (ParetoPoint& point : pareto_fronts(host_rows)) fronts.push_back(std::move(point));
            for (const std::string& note :
                 write_figures(out / "figures" / directory_name(host), host_rows, spec.figures).notes)
                figure_notes.push_back(host + ": " + note);
        }
    }
    write_pareto_csv(out / "pareto.csv", fronts);
    for (const std::string& note : figure_notes) {
        std::cerr << "figures: " << note << "\n";
        record.figure_notes.push_back(note);
    }
}

}  // namespace

Provenance this_process(const MachinePeaks& peaks) {
    return {.host = host_name(),
            .cpu = cpu_model(),
            .compiler = std::string("g++ ") + __VERSION__,
            .build_flags = TRIKV_BUILD_FLAGS,
            .git_commit = TRIKV_GIT_COMMIT,
            .threads = peaks.threads,
            .sgemm_gflops = peaks.sgemm_gflops,
            .read_gbps = peaks.read_gbps};
}

std::string results_json(const StudySpec& spec, const Provenance& finisher, const StudyRecord& record) {
    std::vector<std::string> provenance, notes, figure_notes;
    for (const Provenance& p : record.provenance) provenance.push_back(provenance_json(p));
    for (const std::string& note : record.notes) notes.push_back(json_string(note));
    for (const std::string& note : record.figure_notes) figure_notes.push_back(json_string(note));
    std::ostringstream out;
    out << "{\n"
        << "  \"state\": " << json_string(record.state) << ",\n"
        << "  \"date\": " << json_string(now_utc()) << ",\n"
        << "  \"host\": " << json_string(finisher.host) << ",\n"
        << "  \"cpu\": " << json_string(finisher.cpu) << ",\n"
        << "  \"threads\": " << finisher.threads << ",\n"
        << "  \"compiler\": " << json_string(finisher.compiler) << ",\n"
        << "  \"build_flags\": " << json_string(finisher.build_flags) << ",\n"
        << "  \"git_commit\": " << json_string(finisher.git_commit) << ",\n"
        << "  \"libraries\": {\"xtensor\": \"" << XTENSOR_VERSION_MAJOR << "." << XTENSOR_VERSION_MINOR << "."
        << XTENSOR_VERSION_PATCH << "\", \"onetbb\": \"" << TBB_VERSION_MAJOR << "." << TBB_VERSION_MINOR
        << "\", \"openblas\": " << json_string(openblas_get_config()) << "},\n"
        << "  \"peaks\": {\"sgemm_gflops\": " << finisher.sgemm_gflops << ", \"read_gbps\": " << finisher.read_gbps
        << "},\n"
        << "  \"mem_limit_bytes\": " << static_cast<long long>(record.mem_limit_bytes) << ",\n"
        << "  \"points\": " << record.points << ",\n"
        << "  \"present\": " << record.present << ",\n"
        << "  \"rows_not_in_study\": " << record.rows_not_in_study << ",\n"
        << "  \"provenance\": " << json_list(provenance) << ",\n"
        << "  \"shards\": " << json_list(record.shards) << ",\n"
        << "  \"notes\": " << json_list(notes) << ",\n"
        << "  \"figure_notes\": " << json_list(figure_notes) << ",\n"
        << "  \"study_toml\": " << json_string(to_toml(spec)) << "\n}\n";
    return out.str();
}

void finish_study(const StudySpec& spec, const std::vector<StudyPoint>& points, const std::vector<ResultRow>& rows,
                  const Provenance& finisher, StudyRecord& record) {
    const fs::path out = spec.out;
    remove_temporaries(out, {"results.json", "pareto.csv"});
    if (fs::is_directory(out / "figures")) remove_temporaries(out / "figures", {"*"});
    std::set<std::string> keys, present;
    for (const StudyPoint& point : points) keys.insert(point.key());
    std::vector<ResultRow> in_study;
    for (const ResultRow& row : rows) {
        if (!keys.count(point_key_of(row))) {
            ++record.rows_not_in_study;
            continue;
        }
        in_study.push_back(row);
        if (row.key == point_key_of(row)) present.insert(row.key);
    }
    record.points = keys.size();
    record.present = present.size();
    if (record.rows_not_in_study)
        std::cerr << "study: " << record.rows_not_in_study << " rows of results.csv belong to points no longer in the "
                  << "study; they stay in results.csv but are left out of pareto.csv and the figures\n";
    write_fronts_and_figures(out, in_study, spec, record);
    if (record.state.empty()) record.state = record.present == record.points ? "complete" : "incomplete";
    write_file_atomically(out / "results.json", results_json(spec, finisher, record));
}

}  // namespace trikv
