// `trikv` — the command line. Exit status: 0 success, 2 usage or input error (one line on
// stderr naming the field and value), 3 a study finished with failed points, 1 anything unexpected.
#include <iostream>

#include "framework/error.hpp"
#include "studies/cli/commands.hpp"
#include "studies/cli/plugins.hpp"

int main(int argc, char** argv) {
    CLI::App app{"trikv — tensor (three-way) attention and its KV caches"};
    app.require_subcommand(1);
    // Loaded as soon as it is parsed, so its types exist before any subcommand runs.
    app.add_option_function<std::string>(
           "--plugin", [](const std::string& path) { trikv::cli::load_plugin(path, "--plugin"); },
           "load cache types from this shared library (repeatable, before the subcommand; "
           "also TRIKV_PLUGINS=a.so:b.so)")
        ->trigger_on_parse();
    trikv::cli::add_attend_command(app);
    trikv::cli::add_caches_command(app);
    trikv::cli::add_bench_command(app);
    trikv::cli::add_study_command(app);
    trikv::cli::add_prefill_command(app);
    try {
        trikv::cli::load_plugins_from_environment();
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const trikv::cli::ExitStatus& e) {
        return e.status;
    } catch (const CLI::ParseError& e) {
        std::cerr << "trikv: " << e.what() << " (see trikv --help)\n";
        return 2;
    } catch (const trikv::Error& e) {
        std::cerr << "trikv: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "trikv: internal error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
