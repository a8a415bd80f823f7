// Human units for progress lines and tables (framework/units.hpp).
#include <catch2/catch.hpp>

#include "framework/units.hpp"

TEST_CASE("byte counts and durations print with three significant digits and a unit", "[units]") {
    CHECK(trikv::format_bytes(0) == "0 B");
    CHECK(trikv::format_bytes(512) == "512 B");
    CHECK(trikv::format_bytes(999) == "999 B");
    CHECK(trikv::format_bytes(9.7e6) == "9.7 MB");
    CHECK(trikv::format_bytes(999'999) == "1 MB");  // rounds up into the next unit, not "1e+03 kB"
    CHECK(trikv::format_bytes(2.17e9) == "2.17 GB");
    CHECK(trikv::format_bytes(139'000'000) == "139 MB");
    CHECK(trikv::format_milliseconds(0.21) == "0.21 ms");
    CHECK(trikv::format_milliseconds(38.5) == "38.5 ms");
    CHECK(trikv::format_milliseconds(4518) == "4.52 s");
    CHECK(trikv::format_milliseconds(1'234'000) == "1234 s");
}
