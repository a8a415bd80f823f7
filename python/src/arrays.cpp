#include "arrays.hpp"

#include <atomic>
#include <cmath>

#include "framework/error.hpp"

namespace trikv::python {
namespace {

std::atomic<std::size_t> conversions{0};

// A torch tensor's "torch.float32"-style dtype name, or "" for anything else.
std::string torch_dtype(py::handle object) {
    if (py::isinstance<py::array>(object)) return "";  // the common case, without attribute lookups
    const py::handle type = py::type::handle_of(object);
    if (!py::hasattr(type, "__module__") || type.attr("__module__").cast<std::string>().rfind("torch", 0) != 0 ||
        !py::hasattr(object, "dtype"))
        return "";
    return py::str(object.attr("dtype")).cast<std::string>();
}

py::array as_array(py::handle object, const std::string& name) {
    // A torch tensor that requires grad refuses __array__; the caller must detach it first.
    py::array array = py::array::ensure(accepted_input(object, name));
    if (!array) {
        PyErr_Clear();
        const std::string dtype = torch_dtype(object);
        if (!dtype.empty() && object.attr("requires_grad").cast<bool>())
            throw Error(name + ": a tensor that requires grad; detach() it first");
        if (!dtype.empty())
            throw Error(name + ": a " + dtype + " tensor on " + py::str(object.attr("device")).cast<std::string>() +
                        " cannot be read as an array; expected a floating-point CPU tensor");
        throw Error(name + ": " + printable(std::string(py::str(py::type::handle_of(object).attr("__name__")))) +
                    " is not an array; expected a NumPy array or a CPU tensor (detach() one that requires grad)");
    }
    return array;
}

}  // namespace

py::object accepted_input(py::handle object, const std::string& name) {
    // NumPy has no bfloat16: torch widens such a tensor to float32, once, counted like any conversion.
    if (torch_dtype(object) != "torch.bfloat16") return py::reinterpret_borrow<py::object>(object);
    require(!object.attr("requires_grad").cast<bool>(), name + ": a tensor that requires grad; detach() it first");
    ++conversions;
    return object.attr("float")();
}

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
