#pragma once
// Readers for the command line's numeric arguments. Each checks the text itself, before CLI11
// converts it: a conversion would turn "-1" into 2^64 − 1 for an unsigned option and overflow
// silently, and CLI11's own range checks print doubles with 309 digits. Messages name the value
// and the range in plain integers.
#include <cstddef>
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "studies/spec/bounds.hpp"
#include "studies/spec/mem_limit.hpp"

namespace trikv::cli {

// Whole numbers in `range` only: "-1", "2.5", "1e3" and "99999999999999999999" are refused.
CLI::Validator whole_in(bounds::Range range);

// A finite real number ("inf", "nan" and "1e400" are refused).
CLI::Validator finite_number();
// A finite real number in `range` (the range a study file takes), named in plain numbers.
CLI::Validator real_in(bounds::RealRange range);

// The same check as a validator, so a bad limit fails while the arguments are parsed.
CLI::Validator mem_limit_text();

}  // namespace trikv::cli
