#include "studies/cli/plugins.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <set>

#include "caches/registry.hpp"
#include "framework/error.hpp"

namespace trikv::cli {
namespace {

// An exception thrown by a plugin's static initialiser cannot cross dlopen: the C++ runtime
// calls std::terminate, which aborts. While a plugin loads, terminate instead prints the CLI's
// one-line error and exits with status 2 (the process cannot go on: the loader is mid-load).
class TerminateAsLoadError {
public:
    explicit TerminateAsLoadError(const std::string& where) {
        where_ = where;
        previous_ = std::set_terminate(&handle);
    }
    ~TerminateAsLoadError() { std::set_terminate(previous_); }
    TerminateAsLoadError(const TerminateAsLoadError&) = delete;
    TerminateAsLoadError& operator=(const TerminateAsLoadError&) = delete;

private:
    [[noreturn]] static void handle() {
        std::string message = "an exception that is not a std::exception";
        try {
            if (const std::exception_ptr error = std::current_exception()) std::rethrow_exception(error);
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
        }
        const std::string line = "trikv: " + where_ + ": its static initialiser threw: " + without_controls(message) + "\n";
        [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
        ::_exit(2);
    }

    static inline std::string where_;
    std::terminate_handler previous_ = nullptr;
};

}  // namespace

void load_plugin(const std::string& path, const std::string& field) {
    require(!path.empty(), field + ": an empty path");
    const std::string where = field + ": '" + printable(path) + "'";
    std::error_code error;
    require(std::filesystem::is_regular_file(path, error), where + " is not a file");
    // An absolute path: dlopen would search the library path for a bare file name.
    const std::string file = std::filesystem::absolute(path).string();
    const std::size_t types_before = cache_types().size();
    std::vector<std::string> refused;
    void* handle = nullptr;
    {
        const DeferredRegistrationErrors deferred;
        const TerminateAsLoadError terminate_as_error(where);
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
