#include "studies/cluster/shard_merge.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "framework/error.hpp"
#include "framework/files.hpp"
#include "studies/measure/measure.hpp"
#include "studies/results/study_dir.hpp"
#include "studies/run/finish.hpp"
#include "studies/results/provenance.hpp"
#include "studies/results/results.hpp"
#include "studies/cluster/shard_state.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

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
    out << "{\"shard\": " << json_string(s.shard.label()) << ", \"state\": " << json_string(name_of(s.state))
        << ", \"host\": " << json_string(s.host) << ", \"pid\": " << s.pid
        << ", \"slurm_job\": " << json_string(s.slurm_job) << ", \"start\": " << json_string(s.start)
        << ", \"end\": " << json_string(s.end) << ", \"git_commit\": " << json_string(s.git_commit)
        << ", \"threads\": " << s.threads << ", \"peaks\": {\"sgemm_gflops\": " << s.sgemm_gflops
        << ", \"read_gbps\": " << s.read_gbps << "}, \"points\": " << s.points << ", \"measured\": " << s.measured
        << ", \"resumed\": " << s.resumed << ", \"skipped\": " << s.skipped << ", \"failed\": " << s.failed
        << ", \"error\": " << json_string(s.error) << "}";
    return out.str();
}

// Every machine that measured rows: the shards' own records, and the finishing process for rows
// of its host no shard accounts for (an unsharded run's); "unknown" for any other host.
std::vector<Provenance> provenance_of(const std::vector<ShardState>& states, const std::vector<ResultRow>& rows,
                                      const Provenance& finisher) {
    std::vector<Provenance> list;
    std::set<std::string> hosts;
    for (const ShardState& s : states) {
        const Provenance p{s.host, s.cpu, s.compiler, s.build_flags, s.git_commit, s.threads, s.sgemm_gflops, s.read_gbps};
        if (std::find(list.begin(), list.end(), p) == list.end()) list.push_back(p);
        hosts.insert(s.host);
    }
    for (const ResultRow& row : rows) {
        const std::string host = row.host.empty() ? "unknown" : row.host;
        if (!hosts.insert(host).second) continue;
        if (host == finisher.host) list.push_back(finisher);
        else list.push_back({host, "unknown", "unknown", "unknown", "unknown", 0, 0, 0});
    }
    return list;
}

// Every row of the shards' files, then of results.csv as it is now (`current`: an earlier
// merge's or an unsharded run's rows), one per key (the first found), in the study's point
// order; rows of points not in the study are kept, last. `keys`: the keys present.
std::vector<ResultRow> collect_rows(const fs::path& out, const std::vector<ShardState>& states,
                                    std::vector<ResultRow> current, const std::vector<std::string>& study_keys,
                                    std::set<std::string>& keys) {
    std::vector<std::vector<ResultRow>> sources;
    std::error_code error;
    for (const ShardState& s : states) {
        const fs::path file = shards_dir(out) / (s.shard.file_stem() + ".csv");
        if (fs::exists(file, error)) sources.push_back(read_results_csv(file));
    }
    sources.push_back(std::move(current));
    const std::set<std::string> in_study(study_keys.begin(), study_keys.end());
    std::vector<std::string> point_order = study_keys;
    std::map<std::string, std::vector<ResultRow>> rows_of_point;
    for (std::vector<ResultRow>& source : sources) {
        for (ResultRow& row : source) {
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

}  // namespace

MergeReport merge_shards(const StudySpec& spec, bool wait) {
    validate_study(spec);
    require(!spec.out.empty(), "study: --merge needs an output directory (out)");
    const fs::path out = spec.out;
    std::error_code error;
    require(fs::is_directory(out, error), "study: out = '" + spec.out + "': no such study directory");
    // The unsharded run's lock: a merge never rewrites results.csv, pareto.csv or results.json
    // under a running study's feet (refused, naming its pid, or awaited with --wait).
    const FileLock run_lock(out / ".lock", wait ? FileLock::Busy::wait : FileLock::Busy::refuse);
    const std::vector<ShardState> states = read_shard_states(out);
    const std::vector<StudyPoint> points = expand_study(spec);
    std::vector<std::string> study_keys;  // each point once, in the study's order
    std::set<std::string> seen, present;
    for (const StudyPoint& point : points)
        if (seen.insert(point.key()).second) study_keys.push_back(point.key());
    std::vector<ResultRow> merged;
    ResultsFile(out).rewrite([&](std::vector<ResultRow> current) {
        merged = collect_rows(out, states, std::move(current), study_keys, present);
        return merged;
    });

    std::set<std::string> missing;
    for (const std::string& key : study_keys)
        if (!present.count(key)) missing.insert(key);
    const Provenance finisher = this_process(MachinePeaks{});
    StudyRecord record{.provenance = provenance_of(states, merged, finisher),
                       .mem_limit_bytes = memory_limit(spec.mem_limit)};
    for (const ShardState& s : states) record.shards.push_back(shard_json(s));
    if (!missing.empty()) record.notes = missing_notes(points, missing, states);
    finish_study(spec, points, merged, finisher, record);

    MergeReport report{.points = record.points, .present = record.present, .hosts = {}, .notes = record.notes};
    for (const Provenance& p : record.provenance)
        if (std::find(report.hosts.begin(), report.hosts.end(), p.host) == report.hosts.end()) report.hosts.push_back(p.host);
    std::sort(report.hosts.begin(), report.hosts.end());
    return report;
}

}  // namespace trikv
