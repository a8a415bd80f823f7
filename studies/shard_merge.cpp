#include "studies/shard_merge.hpp"

#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "framework/error.hpp"
#include "framework/files.hpp"
#include "studies/figures.hpp"
#include "studies/pareto.hpp"
#include "studies/provenance.hpp"
#include "studies/results.hpp"
#include "studies/shard_state.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

std::string host_of(const ResultRow& row) { return row.host.empty() ? "unknown" : row.host; }

// A host name as a directory name: letters, digits, '.', '_' and '-' kept, others become '_'.
std::string directory_name(std::string host) {
    for (char& c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
    return host == "." || host == ".." ? "_" : host;
}

// Printed: the state file's text with its control characters escaped.
std::string describe_state(const ShardState& s) {
    const std::string host = without_controls(s.host);
    if (interrupted(s)) return "interrupted on " + host + " (pid " + std::to_string(s.pid) + " is gone)";
    if (s.state == ShardPhase::running)
        return "running on " + host + " (pid " + std::to_string(s.pid) + ") since " + without_controls(s.start);
    if (s.state == ShardPhase::failed) return "failed on " + host + ": " + without_controls(s.error);
    return "done on " + host + " at " + without_controls(s.end);
}

// Notes naming the shards whose points are missing (and the points, when few).
std::vector<std::string> missing_notes(const std::vector<StudyPoint>& points, const std::set<std::string>& missing,
                                       const std::vector<ShardState>& states) {
    std::vector<std::string> notes;
    std::set<std::size_t> counts;
    for (const ShardState& s : states) counts.insert(s.shard.count);
    const std::string summary = std::to_string(missing.size()) + " of " + std::to_string(points.size()) + " points missing";
    if (counts.size() != 1) {
        notes.push_back(summary + (counts.empty() ? " (no shard has started)"
                                                  : " (shards of different counts are present: the partitions differ)"));
        return notes;
    }
    const std::size_t count = *counts.begin();
    notes.push_back(summary);
    for (std::size_t index = 0; index < count; ++index) {
        const std::set<std::string> keys = shard_point_keys(points, {index, count});
        std::size_t absent = 0;
        for (const std::string& key : keys) absent += missing.count(key);
        if (absent == 0) continue;
        std::string where = "not started";
        for (const ShardState& s : states)
            if (s.shard.index == index) where = describe_state(s);
        notes.push_back("shard " + ShardId{index, count}.label() + ": " + std::to_string(absent) + " of " +
                        std::to_string(keys.size()) + " points missing (" + where + ")");
    }
    return notes;
}

std::string shard_json(const ShardState& s) {
    std::ostringstream out;
    out << "    {\"shard\": " << json_string(s.shard.label()) << ", \"state\": " << json_string(name_of(s.state))
        << ", \"host\": " << json_string(s.host) << ", \"pid\": " << s.pid
        << ", \"slurm_job\": " << json_string(s.slurm_job) << ", \"start\": " << json_string(s.start)
        << ", \"end\": " << json_string(s.end) << ", \"git_commit\": " << json_string(s.git_commit)
        << ", \"threads\": " << s.threads << ", \"peaks\": {\"sgemm_gflops\": " << s.sgemm_gflops
        << ", \"read_gbps\": " << s.read_gbps << "}, \"points\": " << s.points << ", \"measured\": " << s.measured
        << ", \"resumed\": " << s.resumed << ", \"skipped\": " << s.skipped << ", \"failed\": " << s.failed
        << ", \"error\": " << json_string(s.error) << "}";
    return out.str();
}

std::string json_list(const std::vector<std::string>& items, const std::string& indent) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ",\n" : "\n") + indent + items[i];
    return out + (items.empty() ? "]" : "\n  ]");
}

std::string merged_json(const StudySpec& spec, const MergeReport& report, const std::vector<ShardState>& states) {
    std::vector<std::string> shards, hosts, notes;
    for (const ShardState& s : states) shards.push_back(shard_json(s));
    for (const std::string& host : report.hosts) hosts.push_back(json_string(host));
    for (const std::string& note : report.notes) notes.push_back(json_string(note));
    std::ostringstream out;
    out << "{\n  \"state\": " << json_string(report.complete() ? "complete" : "incomplete") << ",\n"
        << "  \"merged\": " << json_string(now_utc()) << ",\n"
        << "  \"points\": " << report.points << ",\n  \"present\": " << report.present << ",\n"
        << "  \"hosts\": " << json_list(hosts, "    ") << ",\n"
        << "  \"shards\": " << json_list(shards, "") << ",\n"
        << "  \"notes\": " << json_list(notes, "    ") << ",\n"
        << "  \"study_toml\": " << json_string(to_toml(spec)) << "\n}\n";
    return out.str();
}

// Every row of the shards' files, then of an earlier merge's (or unsharded run's) results.csv,
// one per key (the first found), in the study's point order; rows of points not in the study
// are kept, last. `keys`: the keys present.
std::vector<ResultRow> collect_rows(const fs::path& out, const std::vector<ShardState>& states,
                                    const std::vector<std::string>& study_keys, std::set<std::string>& keys) {
    std::vector<fs::path> sources;
    for (const ShardState& s : states) sources.push_back(shards_dir(out) / (s.shard.file_stem() + ".csv"));
    sources.push_back(out / "results.csv");
    const std::set<std::string> in_study(study_keys.begin(), study_keys.end());
    std::vector<std::string> point_order = study_keys;
    std::map<std::string, std::vector<ResultRow>> rows_of_point;
    std::error_code error;
    for (const fs::path& source : sources) {
        if (!fs::exists(source, error)) continue;
        for (ResultRow& row : read_results_csv(source)) {
            if (!keys.insert(row.key).second) continue;
            std::vector<ResultRow>& rows = rows_of_point[point_key_of(row)];
            if (rows.empty() && !in_study.count(point_key_of(row))) point_order.push_back(point_key_of(row));
            rows.push_back(std::move(row));
        }
    }
    std::vector<ResultRow> merged;
    for (const std::string& point : point_order)
        for (ResultRow& row : rows_of_point[point]) merged.push_back(std::move(row));
    return merged;
}

// pareto.csv and figures/: one front and one set of figures per host, never across hosts.
void write_fronts_and_figures(const fs::path& out, const std::vector<ResultRow>& merged, const StudySpec& spec,
                              MergeReport& report) {
    std::map<std::string, std::vector<ResultRow>> rows_of_host;
    for (const ResultRow& row : merged) rows_of_host[host_of(row)].push_back(row);
    for (const auto& [host, rows] : rows_of_host) report.hosts.push_back(host);
    std::vector<ParetoPoint> fronts;
    std::vector<std::string> figure_notes;
    if (rows_of_host.size() <= 1) {
        fronts = pareto_fronts(merged);
        figure_notes = write_figures(out / "figures", merged, spec.figures).notes;
    } else {
        std::string hosts;
        for (const std::string& host : report.hosts) hosts += (hosts.empty() ? "" : ", ") + host;
        report.notes.push_back("points measured on " + std::to_string(report.hosts.size()) + " machines (" + hosts +
                               "): fronts are computed per machine (pareto.csv's host column) and figures drawn "
                               "per machine in figures/HOST/; no front joins points of different machines");
        for (const auto& [host, rows] : rows_of_host) {
            for (ParetoPoint& point : pareto_fronts(rows)) fronts.push_back(std::move(point));
            for (const std::string& note : write_figures(out / "figures" / directory_name(host), rows, spec.figures).notes)
                figure_notes.push_back(host + ": " + note);
        }
    }
    write_pareto_csv(out / "pareto.csv", fronts);
    for (const std::string& note : figure_notes) std::cerr << "figures: " << note << "\n";
}

}  // namespace

MergeReport merge_shards(const StudySpec& spec) {
    validate_study(spec);
    require(!spec.out.empty(), "study: --merge needs an output directory (out)");
    const fs::path out = spec.out;
    std::error_code error;
    require(fs::is_directory(out, error), "study: out = '" + spec.out + "': no such study directory");
    const std::vector<ShardState> states = read_shard_states(out);
    const std::vector<StudyPoint> points = expand_study(spec);
    std::vector<std::string> study_keys;  // each point once, in the study's order
    std::set<std::string> seen, present;
    for (const StudyPoint& point : points)
        if (seen.insert(point.key()).second) study_keys.push_back(point.key());
    const std::vector<ResultRow> merged = collect_rows(out, states, study_keys, present);

    MergeReport report;
    std::set<std::string> missing;
    for (const std::string& key : study_keys)
        if (!present.count(key)) missing.insert(key);
    report.points = study_keys.size();
    report.present = report.points - missing.size();
    if (!missing.empty()) report.notes = missing_notes(points, missing, states);

    write_results_csv(out / "results.csv", merged);
    write_fronts_and_figures(out, merged, spec, report);
    write_file_atomically(out / "results.json", merged_json(spec, report, states));
    return report;
}

}  // namespace trikv
