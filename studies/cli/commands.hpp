#pragma once
// Each subcommand of `trikv` lives in its own file and adds itself to the app here.
#include <CLI/CLI.hpp>

namespace trikv::cli {

// Thrown by a command that finished but must end with a status other than 0 or 2 (a study in
// which a point failed: 3); it has already said why on stderr.
struct ExitStatus {
    int status;
};

void add_attend_command(CLI::App& app);
void add_caches_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_study_command(CLI::App& app);
void add_prefill_command(CLI::App& app);
void add_figures_command(CLI::App& app);

// Every subcommand above (main.cpp and the argument fuzzer build the same app).
inline void add_commands(CLI::App& app) {
    add_attend_command(app);
    add_caches_command(app);
    add_bench_command(app);
    add_study_command(app);
    add_prefill_command(app);
    add_figures_command(app);
}

}  // namespace trikv::cli
