#pragma once
// One row of a study's results.csv: the full configuration of a point and what was measured.
// The column list (kColumns) is the file's schema; docs/studies.md documents each column.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "framework/files.hpp"
#include "framework/text.hpp"
#include "studies/spec/study_kinds.hpp"

namespace trikv {

// The system column of rows trikv measured (a peer's names its own: pytorch, numpy).
inline const std::string kTrikvSystem = "trikv";

struct ResultRow {
    // configuration
    std::string cache;       // canonical spec, e.g. factor:strategy=fused
    std::string cache_type;  // the spec's name, e.g. factor (stable colour per type in figures)
    bool exact = true;       // the cache type claims exactness
    Workload workload = Workload::decode;
    // var rows (docs/math.md §7): scale k ≥ 1 of the schedule and its side r_k, n = tokens so far; the
    // row of the whole generation has scale = 0, side = 0. decode rows: both 0.
    std::size_t scale = 0, side = 0;
    std::size_t n = 0, d = 0, heads = 0;
    // docs/math.md §9: kv heads (rows of files written before the column read 0), the score
    // variant and the k2/v2 bias.
    std::size_t kv_heads = 0;
    std::string variant = "trilinear";
    double k2_bias = 0, v2_bias = 0;
    std::string dtype = "float32";
    std::string data = "gaussian";
    unsigned long long seed = 0;
    double attention_scale = 0;  // the scale of the scores (docs/math.md §1–§2)
    // how it was measured: untimed and timed steps (var: generations), worker threads used
    int warmup = 0, repetitions = 0;
    std::size_t threads = 0;
    // measurements
    double bytes = 0;                 // resident cache bytes after the timed steps (counted)
    double logical_bytes = 0;         // of those, the stored data's (Cache::logical_bytes)
    double transient_peak_bytes = 0;  // largest counted scratch of one step
    double rss_peak_bytes = 0;        // process peak RSS during the point
    double step_ms_median = 0, step_ms_p25 = 0, step_ms_p75 = 0, step_ms_min = 0;
    double flops = 0, bytes_moved = 0;  // cost model of one attend at n tokens
    double gflops = 0, gbps = 0;        // achieved, from the median step time
    double gflops_fraction = 0, gbps_fraction = 0;  // of the machine's measured peaks
    double rel_l2_error = 0, max_abs_error = 0;     // vs float64 exact, worst over timed steps
    // The median's distribution-free interval over the timed steps (studies/measure/statistics.hpp) and
    // its confidence level: 95%, or less (the widest, [min, max]) below 6 repetitions.
    double step_ms_median_ci_low = 0, step_ms_median_ci_high = 0, step_ms_median_ci_level = 0;
    // Accuracy over `accuracy_positions` query positions spread over the sequence, apart from
    // the timed steps (docs/math.md §8): the relative error ‖o − o*‖/‖o*‖ and the value-normalised
    // error ‖o − o*‖/‖ō‖ (meaningful when ‖o*‖ → 0), each's median, 90th percentile and largest.
    std::size_t accuracy_positions = 0;
    double rel_error_median = 0, rel_error_p90 = 0, rel_error_max = 0;
    double value_error_median = 0, value_error_p90 = 0, value_error_max = 0;
    double score_bound = 0, subgen_normalised_error = 0;  // decode, tensor: studies/measure/theory_metrics.hpp
    PointStatus status = PointStatus::ok;
    std::string reason;         // why skipped or failed
    std::string budget;         // the budget the cache was fitted to, as written ("": none)
    std::string key;            // stable hash of the configuration
    std::string host;           // the machine that measured the row (host name)
    std::string bytes_source;   // counted (through the allocator) or self-reported (a Python type)
    std::string trace_layer, trace_head;  // data kind trace: the layer and head read; else empty
    std::string system = kTrikvSystem;  // what computed the row: trikv, or a peer (pytorch, numpy: studies/peers/)

    bool ok() const { return status == PointStatus::ok; }
};

// The key of the point a row belongs to: var's per-scale rows carry "KEY/k", the point's own row "KEY".
std::string point_key_of(const ResultRow& row);

// A CSV field, quoted where needed (RFC 4180; line breaks become spaces).
std::string csv_quote(const std::string& field);
// The fields, each quoted where needed, joined by commas (no end of line).
std::string csv_fields(const std::vector<std::string>& fields);

// The column names of results.csv, in order.
const std::vector<std::string>& result_columns();
// Each column's type, for readers in other languages (trikv.load_results converts only the
// numeric ones: a text column such as `key` may hold digits and an 'e', "0286153784e63752").
enum class ColumnKind { text, whole, real };
std::vector<std::pair<std::string, ColumnKind>> result_schema();

// The header line and one row, each without its end of line.
std::string csv_header();
std::string to_csv_line(const ResultRow& row);

struct ResultsTable {
    std::vector<ResultRow> rows;
    bool current_schema = true;  // the header lists today's columns in today's order
    bool ends_with_newline = true;
};
// Parses the text of a results.csv. Files of older schemas read too (a column added since is
// 0 or empty in their rows); CRLF line ends are accepted. Anything else wrong (an unknown or
// missing column, a field count, a number, a cut-short key, a key given twice) throws
// trikv::Error naming `source`, the line and the column.
ResultsTable parse_results_csv(const std::string& text, const std::string& source);
// Reads and parses a results.csv; an empty file or anything but a regular file is an error.
std::vector<ResultRow> read_results_csv(const std::filesystem::path& path);
ResultsTable read_results_table(const std::filesystem::path& path);
// Writes rows atomically (temporary file + rename), so a crash never leaves a torn file.
void write_results_csv(const std::filesystem::path& path, const std::vector<ResultRow>& rows);

}  // namespace trikv
