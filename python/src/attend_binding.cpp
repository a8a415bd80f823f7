// trikv.attend: the token-by-token decode of `trikv attend`, on arrays instead of .npy files.
#include <algorithm>
#include <cmath>
#include <optional>

#include <pybind11/stl.h>

#include "arguments.hpp"
#include "arrays.hpp"
#include "attention/score_variant.hpp"
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

// Every input must be float, [n,d] or [h,n,d], non-empty, and like q in shape and dtype —
// except that keys and values may have kv_heads heads where q has h, kv_heads dividing h (all
// four alike): the CLI's rules and messages, with argument names for flags.
void check_shapes(const py::object (&inputs)[5]) {
    const py::dtype dtype = float_dtype_of(inputs[0], "q");
    const py::array q = py::array::ensure(inputs[0]), k1 = py::array::ensure(inputs[1]);
    for (int i = 0; i < 5; ++i) {
        const std::string name = kNames[i];
        const py::dtype own = float_dtype_of(inputs[i], name);
        const py::array a = py::array::ensure(inputs[i]);
        require(a.ndim() == 2 || a.ndim() == 3, name + ": shape " + shape_text(a) + " has " +
                                                    std::to_string(a.ndim()) + " dimensions; expected [n, d] or [h, n, d]");
        require(a.size() > 0, name + ": shape " + shape_text(a) + " is empty; expected n, d (and h) ≥ 1");
        require(own.equal(dtype), name + ": dtype " + dtype_name(own) + " differs from q's " +
                                                       dtype_name(dtype) + "; all inputs must share one dtype");
        const bool grouped = i > 0 && a.ndim() == 3 && q.ndim() == 3 && q.shape(0) % a.shape(0) == 0 &&
                             a.shape(1) == q.shape(1) && a.shape(2) == q.shape(2) && shape_of(a) == shape_of(k1);
        require(shape_of(a) == shape_of(q) || grouped,
                name + ": shape " + shape_text(a) + " differs from q's " + shape_text(q) +
                    (i > 0 ? " (keys and values may have fewer heads kv_heads, dividing q's, all four alike)" : ""));
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
py::array_t<T> run_engine(const py::object (&inputs)[5], double scale) {
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

// Through a registered cache (float32): append token t, attend q[t]. The output has q's dtype
// (float32 for a bfloat16 tensor, which NumPy cannot hold).
py::array run_cache(const py::object (&inputs)[5], const std::string& spec, const CacheShape& shape) {
    py::array_t<float, py::array::c_style> x[5];
    for (int i = 0; i < 5; ++i) x[i] = finite_array<float>(inputs[i], kNames[i]);
    const std::size_t n = x[0].shape(x[0].ndim() - 2);
    py::array_t<float> out(shape_of(x[0]));
    float* result = out.mutable_data();
    {
        const GilReleased unlocked;
        const std::unique_ptr<Cache> cache = make_cache(spec, shape);
        cache->reserve(n);
        decode_sequence(*cache, n, x[0].data(), x[1].data(), x[2].data(), x[3].data(), x[4].data(), result);
    }
    require_finite_output(result, static_cast<std::size_t>(out.size()), n, shape.dim, "float32");
    const py::dtype dtype = float_dtype_of(inputs[0], "q");
    return dtype.equal(py::dtype::of<float>()) ? py::array(out) : py::array(out.attr("astype")(dtype));
}

// The cache a run goes through when the exact engine cannot serve it (grouped heads, a variant
// other than trilinear, or a bias) and `cache` is not given: exact, float32, every variant (as
// `trikv attend`).
constexpr const char* kGroupedDefaultCache = "factor";

py::array attend(py::handle q, py::handle k1, py::handle k2, py::handle v1, py::handle v2, py::handle cache_arg,
                 py::handle scale_arg, py::handle kv_heads_arg, py::handle variant_arg, py::handle k2_bias,
                 py::handle v2_bias) {
    const std::optional<std::string> cache = optional_text(cache_arg, "cache");
    const std::optional<double> scale = optional_number(scale_arg, "scale");
    const std::optional<std::size_t> kv_heads = optional_whole(kv_heads_arg, "kv_heads");
    const ScoreVariant variant = parse_variant(optional_text(variant_arg, "variant").value_or("trilinear"), "variant");
    if (cache) parse_cache_spec(*cache);  // a bad spec fails before any array is read
    // Read once: a bfloat16 tensor is widened here, not per check.
    const py::object inputs[5] = {accepted_input(q, "q"), accepted_input(k1, "k1"), accepted_input(k2, "k2"),
                                  accepted_input(v1, "v1"), accepted_input(v2, "v2")};
    check_shapes(inputs);
    const py::array queries = py::array::ensure(inputs[0]), keys = py::array::ensure(inputs[1]);
    const std::size_t d = queries.shape(queries.ndim() - 1);
    const std::size_t h = queries.ndim() == 3 ? queries.shape(0) : 1, kv = keys.ndim() == 3 ? keys.shape(0) : 1;
    require(!kv_heads || *kv_heads == kv, "kv_heads: " + std::to_string(kv_heads.value_or(0)) + " differs from k1's " +
                                              std::to_string(kv) + " heads (shape " + shape_text(keys) + ")");
    require(!scale || std::isfinite(*scale), "scale: " + std::to_string(scale.value_or(0)) + " is not finite");
    require(!scale || *scale > 0, "scale: " + std::to_string(scale.value_or(0)) + " must be positive");
    // Unset: through a cache, make_cache gives the type's attention kind its default (0 here), as
    // every entry point does; the exact engine computes tensor attention (1/d).
    CacheShape shape{h, d, scale.value_or(0), kv, variant};
    shape.k2_bias = bias_value(k2_bias, "k2_bias", 1.0 / static_cast<double>(d));
    shape.v2_bias = bias_value(v2_bias, "v2_bias", 1.0);
    // The exact engine computes plain tensor attention; anything else goes through a cache.
    const bool plain = kv == h && variant == ScoreVariant::trilinear && shape.k2_bias == 0 && shape.v2_bias == 0;
    if (cache || !plain) {
        require(std::isfinite(static_cast<float>(shape.scale)),
                "scale: " + std::to_string(shape.scale) + " is beyond float32's range, the type caches compute in");
        return run_cache(inputs, cache.value_or(kGroupedDefaultCache), shape);
    }
    shape.scale = scale.value_or(default_tensor_scale(d));
    const bool in_double = float_dtype_of(inputs[0], "q").equal(py::dtype::of<double>());
    require(in_double || std::isfinite(static_cast<float>(shape.scale)),
            "scale: " + std::to_string(shape.scale) + " is beyond float32's range, the type attend computes in");
    if (in_double) return run_engine<double>(inputs, shape.scale);
    return run_engine<float>(inputs, shape.scale);
}

}  // namespace

void bind_attend(py::module_& m) {
    m.def("attend", &attend, py::arg("q"), py::arg("k1"), py::arg("k2"), py::arg("v1"), py::arg("v2"),
          py::arg("cache") = py::none(), py::arg("scale") = py::none(), py::arg("kv_heads") = py::none(),
          py::arg("variant") = "trilinear", py::arg("k2_bias") = 0.0, py::arg("v2_bias") = 0.0,
          R"doc(Token-by-token decode, as `trikv attend`: for t = 0..n-1, append token t, then
out[t] = tensor attention of q[t] over every pair (i, j) with i, j <= t.

q is [n, d] or [h, n, d]; k1, k2, v1, v2 are q's shape, or [kv_heads, n, d] with kv_heads
dividing h (grouped heads: query head i reads kv head i // (h // kv_heads)); kv_heads is read
from their shape (pass it to have it checked). All share one float dtype. variant is
'trilinear' (default), 'rank1' or 'strassen'; k2_bias and v2_bias (a number, or 'default' for
the reference's 1/d and 1) are added to every k2 and v2. Plain attention (no grouping, trilinear,
no bias) without `cache` runs the exact engine in the inputs' dtype (float64 stays float64);
otherwise the decode goes through `cache` (default 'factor') in float32 and the output is cast
back to q's dtype. scale defaults to 1/d.)doc");
}

}  // namespace trikv::python
