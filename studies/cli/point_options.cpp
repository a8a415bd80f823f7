#include "studies/cli/point_options.hpp"

#include "studies/cli/arguments.hpp"
#include "studies/spec/study_fields.hpp"

namespace trikv::cli {

void add_point_options(CLI::App* command, PointOptions& o) {
    command->add_option("--cache", o.caches, "cache spec (repeatable; replaces the study's caches and grids)");
    for (const StudyField& field : study_fields()) {
        if (field.help.empty()) continue;  // read from study files only
        const std::string help = (field.in_data ? "[data] " : "") + field.help + (field.list ? " (repeatable)" : "");
        CLI::Option* option = command->add_option(field.flag, o.fields[field.key], help)->type_name(field.value_name);
        if (!field.list) option->expected(1);
    }
    command->add_option("--mem-limit", o.mem_limit, "skip points projected above this many bytes, or P% of the memory available")
        ->check(mem_limit_text());
    command->add_flag("--no-peaks", o.no_peaks, "skip measuring the machine's peaks (fraction columns stay 0)");
}

void apply_point_options(const PointOptions& o, StudySpec& spec) {
    if (!o.caches.empty()) {
        spec.caches = o.caches;
        spec.grids.clear();
    }
    for (const StudyField& field : study_fields()) {
        const auto given = o.fields.find(field.key);
        if (given != o.fields.end() && !given->second.empty()) apply_field_texts(field, given->second, spec);
    }
    // var takes its tokens from the schedule: the study's n sweep does not apply.
    const auto n = o.fields.find("n");
    if (spec.workload == Workload::var && (n == o.fields.end() || n->second.empty())) spec.n.clear();
    if (!o.mem_limit.empty()) spec.mem_limit = parse_mem_limit(o.mem_limit, "--mem-limit");
    if (o.no_peaks) spec.measure_peaks = false;
}

}  // namespace trikv::cli
