#include "arrays.hpp"

#include <atomic>
#include <cmath>

#include "framework/error.hpp"

namespace trikv::python {
namespace {

std::atomic<std::size_t> conversions{0};

py::array as_array(py::handle object, const std::string& name) {
    // A torch tensor that requires grad refuses __array__; the caller must detach it first.
    py::array array = py::array::ensure(object);
    if (!array) {
        PyErr_Clear();
        throw Error(name + ": " + printable(std::string(py::str(py::type::handle_of(object).attr("__name__")))) +
                    " is not an array; expected a NumPy array or a CPU tensor (detach() one that requires grad)");
    }
    return array;
}

}  // namespace

std::string shape_text(const py::array& a) {
    std::string text = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) text += (i ? ", " : "") + std::to_string(a.shape(i));
    return text + ")";
}

std::vector<std::size_t> shape_of(const py::array& a) {
    return std::vector<std::size_t>(a.shape(), a.shape() + a.ndim());
}

std::string dtype_name(const py::dtype& dtype) { return dtype.attr("name").cast<std::string>(); }

py::dtype float_dtype_of(py::handle object, const std::string& name) {
    const py::array array = as_array(object, name);
    if (array.dtype().kind() != 'f')
        throw Error(name + ": dtype " + dtype_name(array.dtype()) + " is not floating-point; expected float32 or float64");
    return array.dtype();
}

template <class T>
py::array_t<T, py::array::c_style> finite_array(py::handle object, const std::string& name) {
    const py::array original = as_array(object, name);
    float_dtype_of(original, name);
    auto typed = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(original);
    if (!typed) throw py::error_already_set();
    if (typed.data() != original.data()) ++conversions;
    const T* values = typed.data();
    // The message is built only on failure: formatting it per element would cost more than
    // a small attend.
    for (py::ssize_t k = 0; k < typed.size(); ++k)
        if (!std::isfinite(values[k]))
            throw Error(name + ": element " + std::to_string(k) + " is " + std::to_string(values[k]) +
                        "; inputs must be finite");
    return typed;
}

template py::array_t<float, py::array::c_style> finite_array<float>(py::handle, const std::string&);
template py::array_t<double, py::array::c_style> finite_array<double>(py::handle, const std::string&);

std::size_t converted_inputs() { return conversions.load(); }

void bind_arrays(py::module_& m) {
    m.def("_converted_inputs", &converted_inputs,
          "How many array inputs trikv has copied (converted to C-contiguous float32/float64) so far.");
}

}  // namespace trikv::python
