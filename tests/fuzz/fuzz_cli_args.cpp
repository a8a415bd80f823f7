// libFuzzer target: any argument list (the input split at NUL bytes) parses, or fails with a
// CLI11 parse error or a trikv::Error — never a crash, a wrapped number or another exception.
// The commands' bodies are removed, so only what reads the arguments runs (the validators of
// studies/cli/arguments.hpp and CLI11's conversions), not the work they would start.
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
    for (CLI::App* command : app.get_subcommands(std::function<bool(CLI::App*)>{})) command->callback({});
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::Error&) {   // parse errors, and --help / --version (CLI::Success)
    } catch (const trikv::Error&) {
    }
    return 0;
}
