// libFuzzer target: any argument list (the input split at NUL bytes) parses, or fails with a
// CLI11 parse error or a trikv::Error — never a crash, a wrapped number or another exception.
// The app's parse-complete callback, which CLI11 runs after every option is validated and
// converted but before any subcommand's callback, stops the run there: only what reads the
// arguments runs (the validators of studies/cli/arguments.hpp and CLI11's conversions), not
// the work a command would start. (Clearing the commands' callbacks instead would free the
// options they own while CLI11 still writes to them.)
#include <cstdint>
#include <string>
#include <vector>

#include "framework/error.hpp"
#include "studies/cli/commands.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> arguments = {"trikv"};
    std::string current;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            arguments.push_back(current);
            current.clear();
        } else {
            current += static_cast<char>(data[i]);
        }
    }
    arguments.push_back(current);
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());

    CLI::App app{"trikv"};
    app.require_subcommand(1);
    trikv::cli::add_commands(app);
    struct ArgumentsRead {};
    app.parse_complete_callback([] { throw ArgumentsRead{}; });
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const ArgumentsRead&) {
    } catch (const CLI::Error&) {  // parse errors, and --help (CLI::Success)
    } catch (const trikv::Error&) {
    }
    return 0;
}
