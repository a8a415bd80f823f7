#pragma once
// Keyword arguments taken as plain Python objects and converted here, so that a wrong type is
// one short TypeError naming the argument ("variant: int 123 is not a str"), never pybind11's
// list of overloads followed by the repr of every argument (arrays included).
#include <optional>
#include <string>

#include <pybind11/pybind11.h>

namespace trikv::python {

namespace py = pybind11;

// None → nullopt; a str → its text; anything else → TypeError naming `name`.
std::optional<std::string> optional_text(py::handle value, const std::string& name);
// None → nullopt; an int or float (not bool) → its value; anything else → TypeError.
std::optional<double> optional_number(py::handle value, const std::string& name);
// None → nullopt; a non-negative int (not bool) → its value; anything else → TypeError (a
// negative int: ValueError through trikv::Error).
std::optional<std::size_t> optional_whole(py::handle value, const std::string& name);
// A k2/v2 bias: a finite number, or "default" for the reference implementation's value.
double bias_value(py::handle value, const std::string& name, double reference_value);

}  // namespace trikv::python
