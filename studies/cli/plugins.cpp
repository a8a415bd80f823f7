#include "studies/cli/plugins.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <set>

#include "caches/registry.hpp"
#include "framework/error.hpp"

namespace trikv::cli {
namespace {

// An exception thrown by a plugin's static initialiser either cannot cross dlopen (the C++
// runtime calls std::terminate, which aborts) or crosses it with the loader left mid-load
// (seen when the CLI runs in an empty environment). Either way the process cannot go on: it
// prints the CLI's one-line error and exits with status 2.
class TerminateAsLoadError {
public:
    explicit TerminateAsLoadError(const std::string& where) {
        where_ = where;
        previous_ = std::set_terminate(&handle);
    }
    ~TerminateAsLoadError() { std::set_terminate(previous_); }
    TerminateAsLoadError(const TerminateAsLoadError&) = delete;
    TerminateAsLoadError& operator=(const TerminateAsLoadError&) = delete;

    // The handler's work, also called by the caller when the exception did cross dlopen.
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

private:

    static inline std::string where_;
    std::terminate_handler previous_ = nullptr;
};

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
    const std::string where = field + ": '" + printable(path) + "'";
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
        const TerminateAsLoadError terminate_as_error(where);
        // RTLD_NOW: an unresolved symbol fails here, with dlopen's message, not at first use.
        // The handle is never closed: the registered factories live in the library.
        // glibc declares dlopen noexcept, so a handler around a direct call is compiled away;
        // called through a pointer the compiler cannot see through, it is kept.
        void* (*volatile open)(const char*, int) = dlopen;
        try {
            handle = open(file.c_str(), RTLD_NOW | RTLD_LOCAL);
        } catch (...) {
            TerminateAsLoadError::handle();
        }
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
