// `trikv` — the command line. Exit status: 0 success, 2 usage or input error (one line on
// stderr naming the field and value), 3 a study finished with failed points, 1 anything unexpected.
#include <filesystem>
#include <iostream>
#include <new>
#include <string_view>

#include "framework/error.hpp"
#include "framework/isa.hpp"
#include "studies/cli/commands.hpp"
#include "studies/cli/plugins.hpp"

namespace {

// Every message on one line of bounded length, whatever text from the arguments it quotes.
// Non-ASCII bytes pass (messages use "≥", "×"); control characters such as a newline are escaped.
std::string one_line(std::string_view message) {
    constexpr std::size_t kMaxMessage = 2000;
    const std::string line = trikv::without_controls(message.substr(0, kMaxMessage));
    return message.size() > kMaxMessage ? line + "..." : line;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"trikv — tensor (three-way) attention and its KV caches"};
    app.require_subcommand(1);
    // Loaded as soon as it is parsed, so its types exist before any subcommand runs.
    app.add_option_function<std::string>(
           "--plugin", [](const std::string& path) { trikv::cli::load_plugin(path, "--plugin"); },
           "load cache types from this shared library (repeatable, before the subcommand; "
           "also TRIKV_PLUGINS=a.so:b.so)")
        ->trigger_on_parse();
    trikv::cli::add_commands(app);
    try {
        trikv::cli::load_plugins_from_environment();
        trikv::active_isa();  // TRIKV_ISA is checked before any work starts (framework/isa.hpp)
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const trikv::cli::ExitStatus& e) {
        return e.status;
    } catch (const CLI::ParseError& e) {
        std::cerr << "trikv: " << one_line(e.what()) << " (see trikv --help)\n";
        return 2;
    } catch (const trikv::Error& e) {
        std::cerr << "trikv: " << one_line(e.what()) << "\n";
        return 2;
    } catch (const std::bad_alloc&) {
        // Sizes are checked against memory before allocating; this is what the checks cannot see
        // (other processes' memory, a cost model's underestimate).
        std::cerr << "trikv: out of memory: an allocation failed; use smaller --n, --d or --heads\n";
        return 2;
    } catch (const std::filesystem::filesystem_error& e) {
        // The file system refused (a symlink loop, no permission): the input's fault, not trikv's.
        std::cerr << "trikv: " << one_line(e.what()) << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "trikv: internal error: " << one_line(e.what()) << "\n";
        return 1;
    }
    return 0;
}
