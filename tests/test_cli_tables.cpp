// One table: `trikv prefill --csv` writes rows with results.csv's columns (read back by the C++
// reader), `trikv figures` draws any such table, and a peer's row (its `system` column) gets a
// series and a colour of its own beside trikv's.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "studies/figures/series.hpp"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace trikv;
using namespace trikv::test::cli;

TEST_CASE("cli: prefill --csv writes results rows checked against float64, its table unchanged", "[cli][prefill]") {
    TempDir dir;
    const fs::path csv = dir.out("prefill.csv");
    const Result result = run_cli(dir, "prefill --no-peaks --n 16 --n 32 --d 4 --heads 2 --repetitions 2 "
                                       "--accuracy-positions 4 --csv " + quote(csv.string()));
    REQUIRE(result.status == 0);
    CHECK_THAT(result.out, Contains("mask") && Contains("causal"));  // the human table
    const std::vector<ResultRow> rows = read_results_csv(csv);
    REQUIRE(rows.size() == 2);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const ResultRow& row = rows[i];
        CHECK(row.n == (i == 0 ? 16u : 32u));
        CHECK(row.workload == Workload::prefill);
        CHECK(row.cache == "exact:mask=causal");
        CHECK(row.system == kTrikvSystem);
        CHECK(row.ok());
        CHECK(row.accuracy_positions == 4);
        CHECK(row.rel_l2_error > 0);  // float32 against float64: measured, not assumed zero
        CHECK(row.rel_l2_error <= kFloatTolerance);
        CHECK(row.rel_error_max == row.rel_l2_error);
        CHECK(row.bytes == double(4 * 2 * row.n * 4 * sizeof(float)));  // K1, K2, V1, V2 of 2 heads
        CHECK(row.step_ms_median > 0);
        CHECK(row.attention_scale == 0.25);
    }
    CHECK(rows[0].key != rows[1].key);
    CHECK(dir.outputs() == std::vector<std::string>{"prefill.csv"});  // no temporary file left

    const Result full = run_cli(dir, "prefill --no-peaks --full --n 16 --d 4 --repetitions 1 --csv " + quote(csv.string()));
    REQUIRE(full.status == 0);
    const std::vector<ResultRow> full_rows = read_results_csv(csv);
    REQUIRE(full_rows.size() == 1);
    CHECK(full_rows[0].cache == "exact:mask=full");
    CHECK(full_rows[0].rel_l2_error <= kFloatTolerance);
}

TEST_CASE("cli: prefill --csv naming a directory is refused before anything is measured", "[cli][prefill][errors]") {
    TempDir dir;
    fs::create_directory(dir.out("a_directory"));
    const Result result = run_cli(dir, "prefill --no-peaks --n 8 --d 4 --csv " + quote(dir.out("a_directory").string()));
    CHECK(result.status == 2);
    CHECK_THAT(result.err, Contains("a_directory: is a directory"));
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    CHECK(result.out.find("causal") == std::string::npos);  // no row measured
}

TEST_CASE("cli: figures draws a results table, where a peer's rows are a series of their own", "[cli][figures]") {
    TempDir dir;
    const fs::path csv = dir.out("prefill.csv");
    REQUIRE(run_cli(dir, "prefill --no-peaks --n 8 --n 16 --n 32 --d 4 --repetitions 1 --csv " + quote(csv.string())).status == 0);
    std::vector<ResultRow> rows = read_results_csv(csv);
    for (ResultRow row : std::vector<ResultRow>(rows)) {  // the same points, as a peer measured them
        row.system = "pytorch";
        row.key[0] = row.key[0] == 'f' ? '0' : 'f';
        rows.push_back(row);
    }
    write_results_csv(csv, rows);
    const Result result = run_cli(dir, "figures " + quote(csv.string()) + " --out " + quote(dir.out("figures").string()) +
                                           " --figure scaling");
    REQUIRE(result.status == 0);
    const std::string data = read_text(dir.out("figures/prefill-scaling.csv"));
    CHECK_THAT(data, Contains("pytorch exact:mask=causal"));

    std::vector<std::string> notes;
    const SeriesSet set = make_series(rows, notes);
    REQUIRE(set.series.size() == 2);
    Series pytorch{.label = {}, .type = "pytorch", .exact = true, .rows = {}};
    style_series(pytorch, 0);
    const auto peer = std::ranges::find_if(set.series, [](const Series& s) { return s.label.starts_with("pytorch "); });
    REQUIRE(peer != set.series.end());
    CHECK(peer->colour == pytorch.colour);  // the system's colour, not the cache type's
    CHECK(set.series[0].colour != pytorch.colour);
}

TEST_CASE("results: a table written before the system column reads as trikv's", "[results]") {
    ResultRow row;
    row.key = "0123456789abcdef";
    // Today's header and a row, the system column taken out of both (no field here is quoted).
    auto fields = [](const std::string& line) {
        std::vector<std::string> out{""};
        for (char c : line)
            if (c == ',') out.emplace_back();
            else out.back().push_back(c);
        return out;
    };
    std::vector<std::string> names = fields(csv_header()), values = fields(to_csv_line(row));
    const auto at = std::ranges::find(names, "system") - names.begin();
    REQUIRE(at < std::ptrdiff_t(names.size()));
    names.erase(names.begin() + at), values.erase(values.begin() + at);
    const std::string header = csv_fields(names), line = csv_fields(values);
    const ResultsTable table = parse_results_csv(header + "\n" + line + "\n", "old.csv");
    REQUIRE(table.rows.size() == 1);
    CHECK(table.rows[0].system == kTrikvSystem);
    CHECK_FALSE(table.current_schema);
}
