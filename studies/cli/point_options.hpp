#pragma once
// The options that choose a study's points, shared by `trikv study` and `trikv bench` (bench
// is a study of the points on its command line): one registration, one way each overrides the
// StudySpec, so the two commands accept the same flags with the same ranges and defaults.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "studies/spec/study_spec.hpp"

namespace trikv::cli {

struct PointOptions {
    std::vector<std::string> caches, kinds, supports, variants;
    std::vector<std::size_t> n, d, schedule, nonzeros, kv_heads;
    std::optional<std::size_t> heads;
    std::optional<int> threads, repetitions, warmup;
    std::vector<double> scales;
    std::optional<double> k2_bias, v2_bias;
    std::vector<std::uint64_t> seeds;
    std::optional<std::size_t> accuracy_positions;
    std::string workload;
    std::string mem_limit;  // empty: the study's own limit
    bool no_peaks = false;
};

// Registers --cache, --n, --d, --heads, --kv-heads, --variant, --k2-bias, --v2-bias, --threads,
// --repetitions, --warmup, --seed (repeatable), --accuracy-positions, --scale, --data, --nonzeros, --support, --workload,
// --schedule, --mem-limit and --no-peaks on `command`.
void add_point_options(CLI::App* command, PointOptions& options);

// Overrides `spec` with every option given (--cache replaces the caches and grids).
void apply_point_options(const PointOptions& options, StudySpec& spec);

}  // namespace trikv::cli
