#include "arguments.hpp"

#include <cmath>

#include "framework/error.hpp"

namespace trikv::python {
namespace {

// "int 123", "list [1, 2]": the type and a short repr of a value, for messages.
std::string described(py::handle value) {
    constexpr std::size_t kShown = 40;
    std::string text = py::repr(value).cast<std::string>();
    if (text.size() > kShown) text = text.substr(0, kShown) + "...";
    return py::type::handle_of(value).attr("__name__").cast<std::string>() + " " + text;
}

bool is_number(py::handle value) {
    return !py::isinstance<py::bool_>(value) && (py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value));
}

}  // namespace

std::optional<std::string> optional_text(py::handle value, const std::string& name) {
    if (value.is_none()) return std::nullopt;
    if (!py::isinstance<py::str>(value)) throw py::type_error(name + ": " + described(value) + " is not a str");
    return value.cast<std::string>();
}

std::optional<double> optional_number(py::handle value, const std::string& name) {
    if (value.is_none()) return std::nullopt;
    if (!is_number(value)) throw py::type_error(name + ": " + described(value) + " is not a number");
    return value.cast<double>();
}

std::optional<std::size_t> optional_whole(py::handle value, const std::string& name) {
    if (value.is_none()) return std::nullopt;
    if (py::isinstance<py::bool_>(value) || !py::isinstance<py::int_>(value))
        throw py::type_error(name + ": " + described(value) + " is not an int");
    const long long whole = value.cast<long long>();
    require(whole >= 0, name + ": " + std::to_string(whole) + " is negative");
    return static_cast<std::size_t>(whole);
}

double bias_value(py::handle value, const std::string& name, double reference_value) {
    if (py::isinstance<py::str>(value)) {
        const std::string text = value.cast<std::string>();
        require(text == "default", name + ": '" + text + "' is neither a number nor 'default'");
        return reference_value;
    }
    const std::optional<double> number = optional_number(value, name);
    if (!number) throw py::type_error(name + ": None is neither a number nor 'default'");
    require(std::isfinite(*number), name + ": " + std::to_string(*number) + " is not finite");
    return *number;
}

}  // namespace trikv::python
