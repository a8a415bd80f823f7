#pragma once
// NumPy arrays (and anything NumPy can view, such as torch CPU tensors, plus torch bfloat16) in, checked, with the
// same one-line messages as `trikv attend`. A C-contiguous array of the wanted dtype is used
// in place; anything else is converted once, and every such conversion is counted so tests
// can prove the fast path copies nothing.
#include <cstddef>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

namespace trikv::python {

namespace py = pybind11;

// `object` as NumPy can read it: a torch bfloat16 tensor (no NumPy dtype) widened to float32,
// counted as a conversion; anything else as it is. finite_array and float_dtype_of call it;
// call it first to read one input several times without converting it each time.
py::object accepted_input(py::handle object, const std::string& name);

// "(2, 3, 4)", as the CLI prints shapes.
std::string shape_text(const py::array& a);
std::vector<std::size_t> shape_of(const py::array& a);
// "float32", as NumPy names dtypes.
std::string dtype_name(const py::dtype& dtype);

// `object` as a C-contiguous array of T (float or double). Throws trikv::Error naming `name`
// unless the input is a floating-point array whose elements are all finite.
template <class T>
py::array_t<T, py::array::c_style> finite_array(py::handle object, const std::string& name);

// The dtype of `object` as NumPy sees it, without converting it; throws unless floating-point.
py::dtype float_dtype_of(py::handle object, const std::string& name);

// How many inputs have been copied by finite_array since the module was loaded.
std::size_t converted_inputs();


}  // namespace trikv::python
