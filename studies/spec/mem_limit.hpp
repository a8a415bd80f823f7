#pragma once
// A memory limit as a study file (mem_limit) and the command line (--mem-limit) give it, one
// grammar for both: a byte count, or a percentage of the memory available when the run starts.
#include <cstdint>
#include <optional>
#include <string>

namespace trikv {

struct MemLimit {
    std::uint64_t bytes = 0;  // 0 with percent 0: no limit
    double percent = 0;       // of MemAvailable, in (0, 100]

    std::string text() const;  // as a study file writes it back: 1048576 or "80%"
};

// The text as a limit: "BYTES" (in bounds::kMemLimitBytes) or "P%" (0 < P ≤ 100); nullopt otherwise.
std::optional<MemLimit> read_mem_limit(const std::string& text);
// Why `text` is not a limit, naming it and what a limit looks like.
std::string mem_limit_problem(const std::string& text);
// read_mem_limit's limit, or trikv::Error naming `field` and the text.
MemLimit parse_mem_limit(const std::string& text, const std::string& field);

}  // namespace trikv
