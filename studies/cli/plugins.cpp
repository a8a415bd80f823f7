#include "studies/cli/plugins.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "caches/registry.hpp"
#include "framework/error.hpp"

namespace trikv::cli {

void load_plugin(const std::string& path, const std::string& field) {
    require(!path.empty(), field + ": an empty path");
    const std::string where = field + ": '" + path + "'";
    std::error_code error;
    require(std::filesystem::is_regular_file(path, error), where + " is not a file");
    // An absolute path: dlopen would search the library path for a bare file name.
    const std::string file = std::filesystem::absolute(path).string();
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
}

void load_plugins_from_environment() {
    const char* list = std::getenv("TRIKV_PLUGINS");
    if (list == nullptr) return;
    std::string path;
    for (const char* c = list;; ++c) {
        if (*c == ':' || *c == '\0') {
            if (!path.empty()) load_plugin(path, "TRIKV_PLUGINS");
            path.clear();
            if (*c == '\0') return;
        } else {
            path += *c;
        }
    }
}

}  // namespace trikv::cli
