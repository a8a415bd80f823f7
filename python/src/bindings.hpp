#pragma once
// One bind_* per file of python/src; module.cpp calls them all.
#include <pybind11/pybind11.h>

namespace trikv::python {

namespace py = pybind11;

void bind_arrays(py::module_& m);
void bind_caches(py::module_& m);
void bind_attend(py::module_& m);
void bind_studies(py::module_& m);
void bind_python_caches(py::module_& m);
void bind_plugins(py::module_& m);
void bind_budgets(py::module_& m);

}  // namespace trikv::python
