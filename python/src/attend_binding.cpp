// trikv.attend: the token-by-token decode of `trikv attend`, on arrays instead of .npy files.
#include <algorithm>
#include <cmath>
#include <optional>

#include <pybind11/stl.h>

#include "arrays.hpp"
#include "attention/tensor_attention.hpp"
#include "bindings.hpp"
#include "gil.hpp"
#include "caches/registry.hpp"
#include "caches/sequence_decode.hpp"
#include "framework/error.hpp"
#include "framework/finite.hpp"

namespace trikv::python {
namespace {

constexpr const char* kNames[] = {"q", "k1", "k2", "v1", "v2"};

// Every input must be float, [n,d] or [h,n,d], non-empty, and like q in shape and dtype (the
// CLI's rules and messages, with argument names for flags).
void check_shapes(const py::handle (&inputs)[5]) {
    const py::dtype dtype = float_dtype_of(inputs[0], "q");
    const py::array q = py::array::ensure(inputs[0]);
    for (int i = 0; i < 5; ++i) {
        const std::string name = kNames[i];
        const py::dtype own = float_dtype_of(inputs[i], name);
        const py::array a = py::array::ensure(inputs[i]);
        require(a.ndim() == 2 || a.ndim() == 3, name + ": shape " + shape_text(a) + " has " +
                                                    std::to_string(a.ndim()) + " dimensions; expected [n, d] or [h, n, d]");
        require(a.size() > 0, name + ": shape " + shape_text(a) + " is empty; expected n, d (and h) ≥ 1");
        require(own.equal(dtype), name + ": dtype " + dtype_name(own) + " differs from q's " +
                                                       dtype_name(dtype) + "; all inputs must share one dtype");
        require(shape_of(a) == shape_of(q), name + ": shape " + shape_text(a) + " differs from q's " + shape_text(q));
    }
}

// As `trikv attend`: a result holding NaN or infinity (scores that overflowed `type`) is an
// error naming head and token, never returned. `out` is [h, n, d].
template <class T>
void require_finite_output(const T* out, std::size_t size, std::size_t n, std::size_t d, const char* type) {
    const std::size_t bad = first_non_finite(out, size);
    if (bad == size) return;
    throw Error(overflow_message("attend: output of head " + std::to_string(bad / (n * d)) + ", token " +
                                     std::to_string(bad / d % n),
                                 out[bad], type, "scale the inputs or the scale down"));
}

// [n, d] or [h, n, d] viewed as [h, n, d].
template <Scalar T>
Heads<T> as_heads(const py::array_t<T, py::array::c_style>& a) {
    const std::size_t h = a.ndim() == 3 ? a.shape(0) : 1;
    const std::size_t n = a.shape(a.ndim() - 2), d = a.shape(a.ndim() - 1);
    Heads<T> heads = xt::empty<T>({h, n, d});
    std::copy_n(a.data(), a.size(), heads.data());
    return heads;
}

// The exact engine in T: decode step t is causal prefill row t.
template <Scalar T>
py::array_t<T> run_engine(const py::handle (&inputs)[5], double scale) {
    Heads<T> x[5];
    for (int i = 0; i < 5; ++i) x[i] = as_heads<T>(finite_array<T>(inputs[i], kNames[i]));
    const std::vector<std::size_t> shape = shape_of(py::array::ensure(inputs[0]));
    Heads<T> out;
    {
        const GilReleased unlocked;
        out = tensor_prefill(x[0], x[1], x[2], x[3], x[4], /*causal=*/true, static_cast<T>(scale));
    }
    require_finite_output(out.data(), out.size(), out.shape(1), out.shape(2), std::is_same_v<T, float> ? "float32" : "float64");
    py::array_t<T> result(shape);
    std::copy_n(out.data(), out.size(), result.mutable_data());
    return result;
}

// Through a registered cache (float32): append token t, attend q[t]. The output has q's dtype.
py::array run_cache(const py::handle (&inputs)[5], const std::string& spec, double scale) {
    py::array_t<float, py::array::c_style> x[5];
    for (int i = 0; i < 5; ++i) x[i] = finite_array<float>(inputs[i], kNames[i]);
    const std::size_t h = x[0].ndim() == 3 ? x[0].shape(0) : 1;
    const std::size_t n = x[0].shape(x[0].ndim() - 2), d = x[0].shape(x[0].ndim() - 1);
    py::array_t<float> out(shape_of(x[0]));
    float* result = out.mutable_data();
    {
        const GilReleased unlocked;
        const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, scale});
        cache->reserve(n);
        decode_sequence(*cache, n, x[0].data(), x[1].data(), x[2].data(), x[3].data(), x[4].data(), result);
    }
    require_finite_output(result, static_cast<std::size_t>(out.size()), n, d, "float32");
    const py::dtype dtype = float_dtype_of(inputs[0], "q");
    return dtype.equal(py::dtype::of<float>()) ? py::array(out) : py::array(out.attr("astype")(dtype));
}

py::array attend(py::handle q, py::handle k1, py::handle k2, py::handle v1, py::handle v2,
                 std::optional<std::string> cache, std::optional<double> scale) {
    if (cache) parse_cache_spec(*cache);  // a bad spec fails before any array is read
    const py::handle inputs[5] = {q, k1, k2, v1, v2};
    check_shapes(inputs);
    require(!scale || std::isfinite(*scale), "scale: " + std::to_string(scale.value_or(0)) + " is not finite");
    require(!scale || *scale > 0, "scale: " + std::to_string(scale.value_or(0)) + " must be positive");
    require(!cache || !scale || std::isfinite(static_cast<float>(*scale)),
            "scale: " + std::to_string(scale.value_or(0)) + " is beyond float32's range, the type caches compute in");
    if (cache) return run_cache(inputs, *cache, scale.value_or(0));  // unset: the type's default (make_cache)
    const double s = scale.value_or(default_tensor_scale(py::array::ensure(q).shape(py::array::ensure(q).ndim() - 1)));
    const bool in_double = float_dtype_of(q, "q").equal(py::dtype::of<double>());
    require(in_double || std::isfinite(static_cast<float>(s)),
            "scale: " + std::to_string(s) + " is beyond float32's range, the type attend computes in");
    if (in_double) return run_engine<double>(inputs, s);
    return run_engine<float>(inputs, s);
}

}  // namespace

void bind_attend(py::module_& m) {
    m.def("attend", &attend, py::arg("q"), py::arg("k1"), py::arg("k2"), py::arg("v1"), py::arg("v2"),
          py::arg("cache") = py::none(), py::arg("scale") = py::none(),
          R"doc(Token-by-token decode, as `trikv attend`: for t = 0..n-1, append token t, then
out[t] = tensor attention of q[t] over every pair (i, j) with i, j <= t.

Arrays are [n, d] or [h, n, d], all of one shape and one float dtype. Without `cache` the exact
engine runs in the inputs' dtype (float64 stays float64); with a cache spec (e.g. 'factor')
the decode runs through that cache in float32 and the output is cast back to q's dtype.
scale defaults to 1/d.)doc");
}

}  // namespace trikv::python
