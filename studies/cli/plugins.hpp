#pragma once
// Out-of-tree cache types in the stock CLI: `trikv --plugin path/libmine.so …` (repeatable,
// before the subcommand) and TRIKV_PLUGINS (colon-separated paths) load shared libraries whose
// cache types register themselves with trikv::register_cache from a static initialiser
// (docs/extending.md, "Plugins"). Every failure is one trikv::Error naming where the path came
// from: a missing file, a library dlopen refuses, a type the registry refuses (a duplicate
// name), or a library that registers no type at all.
#include <string>

namespace trikv::cli {

// Loads the library at `path`; `field` ("--plugin" or "TRIKV_PLUGINS") prefixes errors.
// Loading the same file again does nothing.
void load_plugin(const std::string& path, const std::string& field);

// Loads every library named in TRIKV_PLUGINS, in order (unset or empty: none).
void load_plugins_from_environment();

}  // namespace trikv::cli
