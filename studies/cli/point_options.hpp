#pragma once
// The options that choose a study's points, shared by `trikv study` and `trikv bench` (bench
// is a study of the points on its command line): a flag for every field of the study's field
// table (studies/spec/study_fields.hpp), read as a study file reads the key, plus --cache,
// --mem-limit and --no-peaks.
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "studies/spec/study_spec.hpp"

namespace trikv::cli {

struct PointOptions {
    std::vector<std::string> caches;
    std::map<std::string, std::vector<std::string>> fields;  // field key → the texts given
    std::string mem_limit;  // empty: the study's own limit
    bool no_peaks = false;
};

// Registers --cache, a flag per study field (--n, --d, --heads, --kv-heads, --variant, --data, ...),
// --mem-limit and --no-peaks on `command`.
void add_point_options(CLI::App* command, PointOptions& options);

// Overrides `spec` with every option given (--cache replaces the caches and grids); a value out
// of its field's range throws trikv::Error naming the flag and the value.
void apply_point_options(const PointOptions& options, StudySpec& spec);

}  // namespace trikv::cli
