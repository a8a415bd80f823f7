// The resolved study as TOML (stored with the results, and parsed back by a rerun or a shard).
#include <cmath>
#include <sstream>

#include "framework/text.hpp"
#include "studies/spec/study_spec.hpp"
#include "studies/spec/toml_text.hpp"

namespace trikv {
namespace {

// [0.0625, 0.25]: each scale as shortest_text() spells it, so it reads back as itself.
std::string scale_list(const std::vector<double>& scales) {
    std::string out;
    for (double scale : scales) out += (out.empty() ? "[" : ", ") + shortest_text(scale);
    return out + "]";
}

}  // namespace

std::string to_toml(const StudySpec& spec) {
    std::vector<std::string> support_names;
    for (const Support support : spec.supports) support_names.push_back(name_of(support));
    std::vector<std::string> kind_names;
    for (const DataKind kind : spec.kinds) kind_names.push_back(name_of(kind));
    std::vector<std::string> variant_names_of;
    for (const ScoreVariant variant : spec.variants) variant_names_of.push_back(variant_name(variant));
    std::ostringstream out;
    out << "name = " << toml_string(spec.name) << "\n"
        << "caches = " << toml_list(spec.caches) << "\n"
        << (spec.budgets.empty() ? "" : "budget = " + toml_list(spec.budgets) + "\n")
        << (spec.n.empty() ? "" : "n = " + toml_list(spec.n) + "\n") << "d = " << toml_list(spec.d) << "\nheads = " << toml_list(spec.heads) << "\n"
        << (spec.seeds.size() == 1 ? "seed = " + std::to_string(spec.seeds.front()) : "seeds = " + toml_list(spec.seeds))
        << "\nworkload = " << toml_string(name_of(spec.workload)) << "\n"
        << (spec.accuracy_positions != kDefaultAccuracyPositions
                ? "accuracy_positions = " + std::to_string(spec.accuracy_positions) + "\n" : "")
        << "schedule = " << toml_list(spec.schedule) << "\n"
        << "warmup = " << spec.warmup << "\nrepetitions = " << spec.repetitions << "\nthreads = " << spec.threads << "\n"
        << (spec.scales != std::vector<double>{0} ? "scale = " + scale_list(spec.scales) + "\n" : "")
        << (spec.kv_heads.empty() ? "" : "kv_heads = " + toml_list(spec.kv_heads) + "\n")
        << "variant = " << toml_list(variant_names_of) << "\n"
        << (spec.k2_bias != 0 ? "k2_bias = " + shortest_text(spec.k2_bias) + "\n" : "")
        << (spec.v2_bias != 0 ? "v2_bias = " + shortest_text(spec.v2_bias) + "\n" : "")
        << "mem_limit = " << spec.mem_limit.text()
        << "\nout = " << toml_string(spec.out) << "\n"
        << "figures = " << toml_list(spec.figures) << "\nmeasure_peaks = " << (spec.measure_peaks ? "true" : "false")
        << "\n\n[data]\nkind = " << toml_list(kind_names) << "\nclusters = "
        << spec.data.clusters << "\nradius = " << spec.data.radius << "\nnonzeros = " << toml_list(spec.nonzeros)
        << "\nsupport = " << toml_list(support_names) << "\ndir = " << toml_string(spec.data.dir) << "\n"
        << (spec.data.k2_mean != 0 ? "k2_mean = " + shortest_text(spec.data.k2_mean) + "\n" : "")
        << (spec.data.v2_mean != 0 ? "v2_mean = " + shortest_text(spec.data.v2_mean) + "\n" : "")
        << (spec.trace_layers.empty() && spec.trace_heads.empty()
                ? ""
                : "layer = " + toml_list(spec.trace_layers) + "\nhead = " + toml_list(spec.trace_heads) + "\n");
    for (const CacheGrid& grid : spec.grids) {
        out << "\n[[grid]]\ncache = " << toml_string(grid.cache) << "\n";
        for (const auto& [param, values] : grid.values) out << param << " = " << toml_list(values) << "\n";
    }
    return out.str();
}

}  // namespace trikv
