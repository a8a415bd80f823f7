#pragma once
// Each subcommand of `trikv` lives in its own file and adds itself to the app here.
#include <CLI/CLI.hpp>

namespace trikv::cli {

void add_attend_command(CLI::App& app);
void add_caches_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_study_command(CLI::App& app);
void add_prefill_command(CLI::App& app);

// Every subcommand above (main.cpp and the argument fuzzer build the same app).
inline void add_commands(CLI::App& app) {
    add_attend_command(app);
    add_caches_command(app);
    add_bench_command(app);
    add_study_command(app);
    add_prefill_command(app);
}

}  // namespace trikv::cli
