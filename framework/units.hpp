#pragma once
// Quantities as a person reads them in progress lines and tables: three significant digits and
// a unit (`9.7 MB`, `0.21 ms`). Files keep plain numbers; these are for people only.
#include <string>

namespace trikv {

// Decimal (SI) multiples, as the docs' tables use: "512 B", "9.7 MB", "2.17 GB".
std::string format_bytes(double bytes);
// "0.21 ms", "38.5 ms", "4.52 s"; "1234 s" from a thousand seconds on.
std::string format_milliseconds(double milliseconds);

}  // namespace trikv
