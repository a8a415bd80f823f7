#include "studies/cli/plugins.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "caches/registry.hpp"
#include "framework/error.hpp"

namespace trikv::cli {
namespace {

std::vector<std::string> loaded_files;

// Why another user could change the code `file` runs: the file, or its directory (unless
// sticky, as /tmp is: then only the owner may replace the file), writable by everyone.
std::string world_writable(const std::filesystem::path& file) {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::perms own = fs::status(file, error).permissions();
    if ((own & fs::perms::others_write) != fs::perms::none) return "the file is writable by every user";
    const fs::perms dir = fs::status(file.parent_path(), error).permissions();
    if ((dir & fs::perms::others_write) != fs::perms::none && (dir & fs::perms::sticky_bit) == fs::perms::none)
        return "its directory is writable by every user";
    return "";
}

}  // namespace

const std::vector<std::string>& loaded_plugins() { return loaded_files; }

void load_plugin(const std::string& path, const std::string& field) {
    require(!path.empty(), field + ": an empty path");
    const std::string where = field + ": '" + path + "'";
    std::error_code error;
    require(std::filesystem::is_regular_file(path, error), where + " is not a file");
    // An absolute path: dlopen would search the library path for a bare file name.
    const std::string file = std::filesystem::absolute(path).lexically_normal().string();
    if (const std::string why = world_writable(file); !why.empty())
        std::cerr << "trikv: warning: " << where << ": " << why << "; anyone could change the code it runs\n";
    const std::size_t types_before = cache_types().size();
    std::vector<std::string> refused;
    void* handle = nullptr;
    {
        const DeferredRegistrationErrors deferred;
        // RTLD_NOW: an unresolved symbol fails here, with dlopen's message, not at first use.
        // The handle is never closed: the registered factories live in the library.
        handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
        refused = deferred.errors();
    }
    if (handle == nullptr) throw Error(where + " cannot be loaded: " + dlerror());
    if (!refused.empty()) throw Error(where + ": " + refused.front());
    // dlopen hands back the same handle for a library already loaded, and runs no initialiser.
    static std::set<void*> loaded;
    if (!loaded.insert(handle).second) return;
    require(cache_types().size() > types_before,
            where + " registered no cache type (it must call trikv::register_cache from a static initialiser)");
    loaded_files.push_back(file);
}

void load_plugins_from_environment() {
    const char* list = std::getenv("TRIKV_PLUGINS");
    if (list == nullptr) return;
    std::string path;
    for (const char* c = list;; ++c) {
        if (*c == ':' || *c == '\0') {
            // Set once and forgotten, a relative entry would load whatever the current directory holds.
            require(path.empty() || std::filesystem::path(path).is_absolute(),
                    "TRIKV_PLUGINS: '" + path + "' is a relative path; give absolute paths");
            if (!path.empty()) load_plugin(path, "TRIKV_PLUGINS");
            path.clear();
            if (*c == '\0') return;
        } else {
            path += *c;
        }
    }
}

}  // namespace trikv::cli
