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

namespace trikv::cli {

// Whole numbers in `range` only: "-1", "2.5", "1e3" and "99999999999999999999" are refused.
CLI::Validator whole_in(bounds::Range range);

// A finite real number ("inf", "nan" and "1e400" are refused).
CLI::Validator finite_number();
// A finite real number in `range` (the range a study file takes), named in plain numbers.
CLI::Validator real_in(bounds::RealRange range);

// --mem-limit: a byte count or a percentage of the memory available when the run starts.
struct MemLimit {
    std::uint64_t bytes = 0;  // 0 with fraction 0: no limit
    double fraction = 0;      // of MemAvailable, in (0, 1]

    bool given() const { return bytes > 0 || fraction > 0; }
    // The limit in bytes now (a percentage is resolved against MemAvailable); 0 = no limit.
    std::size_t resolve() const;
};

// Parses "BYTES" (in bounds::kMemLimitBytes) or "P%" (0 < P ≤ 100); throws trikv::Error
// naming `option` otherwise.
MemLimit parse_mem_limit(const std::string& text, const std::string& option = "--mem-limit");
// The same check as a validator, so a bad limit fails while the arguments are parsed.
CLI::Validator mem_limit_text();

}  // namespace trikv::cli
