// The study runner, from TOML text: python/trikv/studies.py turns a file or a dict (with
// overrides) into that text, so this surface stays as small as parse + run.
#include "bindings.hpp"
#include "studies/study_runner.hpp"
#include "studies/study_spec.hpp"

namespace trikv::python {

void bind_studies(py::module_& m) {
    m.def(
        "_run_study_toml",
        [](const std::string& toml_text, const std::string& source, const std::string& out) {
            StudySpec spec = parse_study(toml_text, source);
            if (!out.empty()) spec.out = out;
            // Released: the runner may call back into caches written in Python, which take it.
            py::gil_scoped_release unlocked;
            return run_study(spec).out_dir;
        },
        py::arg("toml_text"), py::arg("source"), py::arg("out") = "",
        "Runs the study in `toml_text` (`source` names it in errors); returns its output directory.");
}

}  // namespace trikv::python
