// Cache types written in Python (trikv.PyCache subclasses) in the C++ registry, so every
// driver — trikv.Cache, trikv.attend, the study runner — can build and measure them. The C++
// side is a trampoline: each call takes the GIL and calls the Python object.
#include <cmath>
#include <limits>
#include <initializer_list>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "gil.hpp"
#include "attention/score_variant.hpp"
#include "caches/registry.hpp"
#include "framework/error.hpp"

namespace trikv::python {
namespace {

// A Python value's type name, for messages: escaped, as a class may name itself anything.
std::string type_name(py::handle value) { return printable(std::string(py::str(py::type::handle_of(value).attr("__name__")))); }

// object.method(*args), through the C API so that a thread Python ends inside the call (see
// gil.hpp) is parked there, before any C++ object is destroyed without the GIL.
py::object call_method(py::handle object, const char* method, std::initializer_list<py::handle> args = {}) {
    const py::str name(method);
    std::vector<PyObject*> stack{object.ptr()};
    for (const py::handle arg : args) stack.push_back(arg.ptr());
    PyObject* result = guarded([&] { return PyObject_VectorcallMethod(name.ptr(), stack.data(), stack.size(), nullptr); });
    if (result == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(result);
}

// object.name (a property runs Python code), guarded the same way.
py::object get_attribute(py::handle object, const char* name) {
    PyObject* result = guarded([&] { return PyObject_GetAttrString(object.ptr(), name); });
    if (result == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(result);
}

class PythonCache final : public Cache {
public:
    PythonCache(py::object impl, std::string spec, const CacheShape& shape)
        : Cache(shape), impl_(std::move(impl)), spec_(std::move(spec)) {
        sync_bytes();
    }
    ~PythonCache() override {
        const GilHeld gil;
        impl_ = py::object();
        resident_.on_release(charged_);
        resident_.on_fill(unfilled_);
    }

    void reserve_storage(std::size_t tokens) override {
        const GilHeld gil;
        call_method(impl_, "reserve", {py::int_(tokens)});
        sync_bytes();
    }
    std::string spec() const override { return spec_; }
    CacheCost cost(std::size_t tokens) const override {
        const GilHeld gil;
        const py::object answer = call_method(impl_, "cost", {py::int_(tokens)});
        require(py::isinstance<py::dict>(answer), spec_ + ": cost(" + std::to_string(tokens) + ") returned a " + type_name(answer) + "; expected a dict");
        const auto cost = answer.cast<py::dict>();
        const std::string where = spec_ + ": cost(" + std::to_string(tokens) + ")";
        auto field = [&](const char* key) {
            require(cost.contains(key), where + " has no '" + key + "'");
            const py::handle value = cost[key];
            // A NaN would pass every limit check (NaN <= limit is false, but so is NaN > limit).
            require(py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value),
                    where + "['" + key + "'] is a " + type_name(value) + "; expected a number");
            const double number = value.cast<double>();
            require(std::isfinite(number) && number >= 0,
                    where + "['" + key + "'] is " + std::string(py::str(value)) + "; expected a finite number >= 0");
            return number;
        };
        return {field("resident_bytes"), field("transient_bytes"), field("flops"), field("bytes_moved")};
    }

protected:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1,
                       const float* v2) override {
        const GilHeld gil;
        const std::size_t kv = shape_.kv_heads;
        call_method(impl_, "append", {view(count, kv, k1), view(count, kv, k2), view(count, kv, v1), view(count, kv, v2)});
        sync_bytes();
    }
    void attend_tokens(std::size_t count, const float* q, float* out) override {
        const GilHeld gil;
        const py::object result = call_method(impl_, "attend", {view(count, shape_.heads, q)});
        const auto values = finite_array<float>(result, spec_ + ": attend's result");
        const std::vector<std::size_t> expected = {count, shape_.heads, shape_.dim};
        require(shape_of(values) == expected, spec_ + ": attend returned shape " + shape_text(values) + "; expected (" +
                                                  std::to_string(count) + ", " + std::to_string(shape_.heads) + ", " +
                                                  std::to_string(shape_.dim) + ")");
        std::copy_n(values.data(), values.size(), out);
    }
    void clear_storage() override {
        const GilHeld gil;
        call_method(impl_, "clear");
        sync_bytes();
    }

private:
    // A read-only [count, heads, dim] view of trikv's buffer, valid during the call only.
    py::array_t<float> view(std::size_t count, std::size_t heads, const float* data) const {
        py::array_t<float> array({count, heads, shape_.dim}, data, py::none());
        array.attr("flags").attr("writeable") = false;
        return array;
    }
    // The class reports its own bytes; the resident meter follows, so bytes() and the study's
    // byte columns show the self-reported figure. A class that holds room ahead of its data
    // (a growing buffer, chunks) may say so with a `logical_bytes` property; by default every
    // byte it holds is data.
    void sync_bytes() {
        const py::object value = get_attribute(impl_, "bytes");
        // bool is an int in Python, but never a byte count.
        require(py::isinstance<py::int_>(value) && !py::isinstance<py::bool_>(value) && value >= py::int_(0),
                spec_ + ": bytes is " + printable(std::string(py::str(py::repr(value)))) + " (a " + type_name(value) +
                    "); expected a whole number >= 0");
        require(value <= py::int_(std::numeric_limits<std::size_t>::max()),
                spec_ + ": bytes is " + printable(std::string(py::str(value))) + ", more than 64 bits hold");
        const auto reported = value.cast<std::size_t>();
        const std::size_t logical =
            py::hasattr(impl_, "logical_bytes") ? impl_.attr("logical_bytes").cast<std::size_t>() : reported;
        require(logical <= reported, spec_ + ": logical_bytes " + std::to_string(logical) + " exceeds bytes " +
                                         std::to_string(reported));
        if (reported > charged_) resident_.on_allocate(reported - charged_);
        else resident_.on_release(charged_ - reported);
        charged_ = reported;
        resident_.on_fill(unfilled_);
        unfilled_ = reported - logical;
        resident_.on_allocate_unfilled(unfilled_);
    }

    py::object impl_;
    std::string spec_;
    std::size_t charged_ = 0;
    std::size_t unfilled_ = 0;  // of charged_, room the class holds ahead of its data
};

// One declared parameter, as python/trikv/pycache.py passes it.
CacheParam to_param(const py::dict& p) {
    CacheParam param;
    param.name = p["name"].cast<std::string>();
    param.default_value = p["default"].cast<std::string>();
    param.description = p["description"].cast<std::string>();
    param.choices = p["choices"].cast<std::vector<std::string>>();
    param.min = p["min"].cast<double>();
    param.max = p["max"].cast<double>();
    param.integer = p["integer"].cast<bool>();
    return param;
}

// The value of `param` in `config`, typed as the class's __init__ expects it.
py::object typed_value(const CacheConfig& config, const CacheParam& param) {
    if (!param.choices.empty()) return py::str(config.text(param.name));
    if (param.integer) return py::int_(config.integer(param.name));
    return py::float_(config.number(param.name));
}

// `shaped`: the class's __init__ takes kv_heads and variant (trikv.register checks its
// signature); a class without them is built for one kv head per query head, trilinear only.
void register_python_cache(const std::string& name, py::object cls, const std::string& description, bool exact,
                           const std::vector<py::dict>& params, const std::vector<std::string>& variant_names,
                           bool shaped) {
    CacheType type;
    type.name = name;
    type.description = description;
    type.exact = exact;
    type.bytes_self_reported = true;
    for (const py::dict& p : params) type.params.push_back(to_param(p));
    std::vector<ScoreVariant> variants;
    for (const std::string& variant : variant_names) variants.push_back(parse_variant(variant, "variants"));
    type.variants = [variants](const CacheConfig&) { return variants; };
    // The registry outlives the interpreter, and a py::object must not be released after it
    // has finalised: the class is kept by a reference the registry owns for good.
    PyObject* factory = cls.release().ptr();
    type.make = [factory, shaped, declared = type.params](const CacheConfig& config, const CacheShape& shape) {
        const GilHeld gil;
        py::dict kwargs;
        for (const CacheParam& param : declared) kwargs[py::str(param.name)] = typed_value(config, param);
        require(shaped || shape.kv_heads == shape.heads,
                "cache '" + config.canonical() + "': kv_heads=" + std::to_string(shape.kv_heads) + " differs from heads=" +
                    std::to_string(shape.heads) + "; this Python cache type's __init__ takes no kv_heads");
        if (shaped) {
            kwargs["kv_heads"] = shape.kv_heads;
            kwargs["variant"] = variant_name(shape.variant);
        }
        const py::tuple args = py::make_tuple(shape.heads, shape.dim, shape.scale);
        PyObject* made = guarded([&] { return PyObject_Call(factory, args.ptr(), kwargs.ptr()); });
        if (made == nullptr) throw py::error_already_set();
        py::object impl = py::reinterpret_steal<py::object>(made);
        return std::unique_ptr<Cache>(std::make_unique<PythonCache>(std::move(impl), config.canonical(), shape));
    };
    register_cache(std::move(type));
}

}  // namespace

void bind_python_caches(py::module_& m) {
    m.def("_register_cache", &register_python_cache, py::arg("name"), py::arg("cls"), py::arg("description"),
          py::arg("exact"), py::arg("params"), py::arg("variants"), py::arg("shaped"),
          "Registers a trikv.PyCache subclass under `name`; use trikv.register, which checks its arguments.");
}

}  // namespace trikv::python
