#include "studies/cli/arguments.hpp"

#include <limits>

#include "framework/error.hpp"

namespace trikv::cli {

CLI::Validator whole_in(bounds::Range range) {
    return CLI::Validator(
        [range](std::string& text) { return bounds::whole_in(text, range) ? "" : bounds::whole_problem(text, range); },
        bounds::range_text(range), "whole_in");
}

CLI::Validator finite_number() {
    static constexpr bounds::RealRange kFinite{std::numeric_limits<double>::lowest(), std::numeric_limits<double>::max()};
    return CLI::Validator(
        [](std::string& text) { return bounds::real_in(text, kFinite) ? "" : printable(text) + " is not a finite number"; },
        "NUMBER", "finite_number");
}

CLI::Validator real_in(bounds::RealRange range) {
    return CLI::Validator(
        [range](std::string& text) { return bounds::real_in(text, range) ? "" : bounds::real_problem(text, range); },
        "NUMBER", "real_in");
}

CLI::Validator mem_limit_text() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            return read_mem_limit(text) ? "" : mem_limit_problem(text);
        },
        "BYTES or P%", "mem_limit");
}

}  // namespace trikv::cli
