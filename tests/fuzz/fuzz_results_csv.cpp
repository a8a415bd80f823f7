// libFuzzer target: any text is a results.csv that parses, or a trikv::Error naming the line
// and column; never a crash. What parses writes back and re-parses to the same rows.
#include <cstdint>
#include <string>

#include "framework/error.hpp"
#include "studies/results/results.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const trikv::ResultsTable table = trikv::parse_results_csv(text, "fuzz.csv");
        std::string again = trikv::csv_header() + "\n";
        for (const trikv::ResultRow& row : table.rows) again += trikv::to_csv_line(row) + "\n";
        const trikv::ResultsTable back = trikv::parse_results_csv(again, "again.csv");
        if (back.rows.size() != table.rows.size()) __builtin_trap();
        for (std::size_t i = 0; i < back.rows.size(); ++i)
            if (trikv::to_csv_line(back.rows[i]) != trikv::to_csv_line(table.rows[i])) __builtin_trap();
    } catch (const trikv::Error&) {
    }
    return 0;
}
