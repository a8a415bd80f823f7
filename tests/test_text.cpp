// framework/text.hpp: the text every layer builds the same way.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "framework/text.hpp"

TEST_CASE("join keeps empty items in their places", "[text]") {
    CHECK(trikv::join({}, ",").empty());
    CHECK(trikv::join({"a", "b"}, ", ") == "a, b");
    CHECK(trikv::join({"", "a"}, ",") == ",a");
    CHECK(trikv::join({"a", "", ""}, ",") == "a,,");
}

TEST_CASE("numbers read back as the number written", "[text]") {
    for (const double value : {0.1, 1e6, 0.123456789, -2.5e-300, 1048576.0}) {
        CHECK(std::strtod(trikv::shortest_text(value).c_str(), nullptr) == value);
        CHECK(std::strtod(trikv::format_number(value).c_str(), nullptr) == value);
    }
    CHECK(trikv::format_number(1048576) == "1048576");  // a spec's whole numbers stay whole
    CHECK(trikv::format_number(0.5) == "0.5");
}
