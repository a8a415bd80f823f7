// `trikv caches` — every registered cache type with its parameters and defaults.
#include <iostream>

#include "caches/registry.hpp"
#include "studies/cli/commands.hpp"

namespace trikv::cli {

void add_caches_command(CLI::App& app) {
    CLI::App* command = app.add_subcommand("caches", "List the registered cache types and their parameters");
    command->callback([] {
        for (const CacheType* type : cache_types()) {
            std::cout << type->name << (type->exact ? "  [exact]" : "  [approximate]") << "\n    "
                      << type->description << "\n";
            for (const CacheParam& p : type->params) {
                std::cout << "    " << p.name << "=" << p.default_value << "  (";
                if (!p.choices.empty()) {
                    for (std::size_t i = 0; i < p.choices.size(); ++i) std::cout << (i ? "|" : "") << p.choices[i];
                } else {
                    std::cout << (p.integer ? "integer " : "number ") << "in [" << format_number(p.min) << ", " << format_number(p.max)
                              << "]";
                }
                std::cout << ") " << p.description << "\n";
            }
        }
    });
}

}  // namespace trikv::cli
