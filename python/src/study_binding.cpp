// The study runner, from TOML text: python/trikv/studies.py turns a file or a dict (with
// overrides) into that text, so this surface stays as small as parse + run. Also the figures'
// style, so that the model's figure (python/trikv/model/figures.py) looks like a study's.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "gil.hpp"
#include "studies/figures/gnuplot_script.hpp"
#include "studies/measure/statistics.hpp"
#include "studies/results/results.hpp"
#include "studies/run/study_runner.hpp"
#include "studies/spec/study_spec.hpp"

namespace trikv::python {

void bind_studies(py::module_& m) {
    m.def(
        "_run_study_toml",
        [](const std::string& toml_text, const std::string& source, const std::string& out) {
            StudySpec spec = parse_study(toml_text, source);
            if (!out.empty()) spec.out = out;
            StudyOptions options;
            options.interrupt_throws = true;  // Ctrl-C must not end the interpreter (a notebook's kernel)
            try {
                // Released: the runner may call back into caches written in Python, which take it.
                const GilReleased unlocked;
                return run_study(spec, options).out_dir;
            } catch (const StudyInterrupted&) {
                PyErr_SetNone(PyExc_KeyboardInterrupt);
                throw py::error_already_set();
            }
        },
        py::arg("toml_text"), py::arg("source"), py::arg("out") = "",
        "Runs the study in `toml_text` (`source` names it in errors); returns its output directory.");
    m.def(
        "_result_schema",
        [] {
            py::dict schema;
            for (const auto& [name, kind] : result_schema())
                schema[py::str(name)] = kind == ColumnKind::whole ? "int" : kind == ColumnKind::real ? "float" : "text";
            return schema;
        },
        "results.csv's columns and their types ('int', 'float' or 'text'), in order: the C++ writer's schema.");
    m.def("_default_result_line", [] { return to_csv_line(ResultRow{}); },
          "A default row of results.csv (its fields in _result_schema's order): what a writer in Python fills in.");
    m.def(
        "_median_interval",
        [](const std::vector<double>& samples) {
            const MedianInterval interval = median_interval(samples);
            return py::make_tuple(interval.low, interval.high, interval.level);
        },
        "(low, high, level): the median's distribution-free interval, as results.csv's step_ms_median_ci_* columns.");
    m.def("_gnuplot_style_dir", [] { return gnuplot_style_dir().string(); },
          "The folder of trikv.gp and the figure templates (studies/figures/gnuplot/ or its installed copy).");
    m.def(
        "_series_style",
        [](const std::string& type, bool exact, std::size_t variant) {
            Series series{.label = {}, .type = type, .exact = exact, .rows = {}};
            style_series(series, variant);
            return py::make_tuple(series.colour, series.point);
        },
        py::arg("type"), py::arg("exact"), py::arg("variant") = 0,
        "(colour 0xRRGGBB, gnuplot point type) of the `variant`-th series of a cache type, as in a study's figures.");
}

}  // namespace trikv::python
