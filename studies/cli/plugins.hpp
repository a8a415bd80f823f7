#pragma once
// Out-of-tree cache types in the stock CLI: `trikv --plugin path/libmine.so …` (repeatable,
// before the subcommand) and TRIKV_PLUGINS (colon-separated paths) load shared libraries whose
// cache types register themselves with trikv::register_cache from a static initialiser
// (docs/extending.md, "Plugins"). Every failure is one trikv::Error naming where the path came
// from: a missing file, a library dlopen refuses, a type the registry refuses (a duplicate
// name), or a library that registers no type at all.
//
// A plugin runs its code as it loads, before any argument is checked: its path must be trusted.
// Nothing is searched for (no library path, no current directory unless a relative --plugin
// names it); TRIKV_PLUGINS, which the command line does not show, takes absolute paths only; a
// file or directory every user may write to is loaded with a warning on stderr.
#include <string>
#include <vector>

namespace trikv::cli {

// Loads the library at `path`; `field` ("--plugin" or "TRIKV_PLUGINS") prefixes errors.
// Loading the same file again does nothing.
void load_plugin(const std::string& path, const std::string& field);

// Loads every library named in TRIKV_PLUGINS, in order (unset or empty: none).
void load_plugins_from_environment();

// The absolute paths of the libraries loaded so far, in order (what `--slurm` carries into its
// job scripts).
const std::vector<std::string>& loaded_plugins();

}  // namespace trikv::cli
