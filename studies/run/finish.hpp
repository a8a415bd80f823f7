#pragma once
// The one way a study ends (docs/studies.md, docs/cluster.md): an unsharded run, a merge of
// shards and a resumed run all write pareto.csv, figures/ and results.json through
// finish_study, so their fronts are computed alike and results.json has one schema.
//   - Rows of points no longer in the study stay in results.csv but out of fronts and figures.
//   - Rows measured on different machines (the host column) are never joined into one front:
//     with more than one host, fronts are per host and figures go to figures/HOST/.
//   - results.json names the process that finished the study (host, cpu, compiler, build,
//     commit, peaks) and, under "provenance", every machine whose rows it holds.
#include <filesystem>
#include <string>
#include <vector>

#include "studies/measure/machine_peaks.hpp"
#include "studies/results/results.hpp"
#include "studies/spec/study_spec.hpp"

namespace trikv {

// The machine and build that measured rows.
struct Provenance {
    std::string host, cpu, compiler, build_flags, git_commit;
    int threads = 0;
    double sgemm_gflops = 0, read_gbps = 0;  // 0: not measured

    bool operator==(const Provenance&) const = default;
};
// This process: its host, CPU model, compiler, build flags and commit, with `peaks`.
Provenance this_process(const MachinePeaks& peaks);

// What results.json says besides the finishing process and the study.
struct StudyRecord {
    // Every member initialised, so designated initializers may leave any out (-Wextra is quiet).
    std::string state{};                   // running, interrupted, complete or incomplete
    std::vector<Provenance> provenance{};  // every machine whose rows results.csv holds
    std::vector<std::string> shards{};     // each shard's JSON object; empty when not sharded
    std::vector<std::string> notes{};         // missing points, hosts
    std::vector<std::string> figure_notes{};  // what the figures left out or could not fit
    std::size_t points = 0, present = 0;  // the study's points; those with a row
    std::size_t rows_not_in_study = 0;
    double mem_limit_bytes = 0;
};

// results.json's text: one schema for every state and every way a study runs.
std::string results_json(const StudySpec& spec, const Provenance& finisher, const StudyRecord& record);

// Writes pareto.csv, figures/ and results.json from `rows` (results.csv's rows) for the study's
// `points`; fills record.present, rows_not_in_study and notes. The caller holds the run lock.
void finish_study(const StudySpec& spec, const std::vector<StudyPoint>& points, const std::vector<ResultRow>& rows,
                  const Provenance& finisher, StudyRecord& record);

}  // namespace trikv
