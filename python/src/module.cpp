// trikv._core: the compiled half of the `trikv` package (python/trikv/ is the other).
#include "bindings.hpp"

#include <filesystem>

#include "framework/error.hpp"

PYBIND11_MODULE(_core, m) {
    using namespace trikv::python;
    m.doc() = "trikv's C++ core: tensor-attention KV caches, the exact engine and the study runner.";
    // trikv reports bad input as one-line Errors: ValueError in Python, except the memory
    // limit, which is a MemoryError like any other refused allocation.
    py::register_exception_translator([](std::exception_ptr error) {
        try {
            if (error) std::rethrow_exception(error);
        } catch (const trikv::MemoryLimitError& e) {
            PyErr_SetString(PyExc_MemoryError, e.what());
        } catch (const trikv::Error& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const std::filesystem::filesystem_error& e) {
            PyErr_SetString(PyExc_OSError, e.what());  // a symlink loop, no permission: as Python's own
        }
    });
    bind_arrays(m);
    bind_caches(m);
    bind_attend(m);
    bind_studies(m);
    bind_python_caches(m);
    bind_plugins(m);
    bind_budgets(m);
}
