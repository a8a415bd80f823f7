// trikv.load_plugin: a C++ plugin's cache types (a shared library built against trikv, as for
// `trikv --plugin`, docs/extending.md §5) in a Python process, beside types written in Python.
// The loading and its checks are the CLI's own (studies/cli/plugins.cpp, compiled in here).
#include <algorithm>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "caches/registry.hpp"
#include "studies/cli/plugins.hpp"

namespace trikv::python {
namespace {

std::vector<std::string> type_names() {
    std::vector<std::string> names;
    for (const CacheType* type : cache_types()) names.push_back(type->name);
    return names;
}

// The names of the types the library registered ([] when it was loaded before).
std::vector<std::string> load_plugin(py::handle path) {
    const std::string file = py::module_::import("os").attr("fspath")(path).cast<std::string>();
    const std::vector<std::string> before = type_names();
    cli::load_plugin(file, "load_plugin");
    std::vector<std::string> added;
    for (const std::string& name : type_names())
        if (std::find(before.begin(), before.end(), name) == before.end()) added.push_back(name);
    return added;
}

}  // namespace

void bind_plugins(py::module_& m) {
    m.def("load_plugin", &load_plugin, py::arg("path"),
          R"doc(Loads the cache types of a C++ plugin (a shared library whose static initialisers
call trikv::register_cache, as `trikv --plugin PATH` loads) and returns their names; a library
already loaded adds none. Its code runs as it loads: load only files you trust. Errors (not a
file, not a library, a type registered twice, no type at all) raise ValueError in one line; a
file or directory every user may write to loads with a warning on stderr.)doc");
}

}  // namespace trikv::python
