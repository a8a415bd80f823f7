// trikv.Cache and trikv.caches(): any registered cache type, driven from Python.
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <pybind11/stl.h>

#include "arrays.hpp"
#include "attention/tensor_attention.hpp"
#include "bindings.hpp"
#include "gil.hpp"
#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/finite.hpp"
#include "studies/spec/bounds.hpp"

namespace trikv::python {
namespace {

// One cache and the lock that keeps two Python threads from driving it at once (the GIL is
// released while it works, and a Cache is not safe to share).
struct CacheHandle {
    std::unique_ptr<Cache> cache;
    std::mutex busy;
    std::atomic<std::thread::id> holder{};  // the thread inside a call, if any
};

// Holds a handle's lock for one call; take it with the GIL released. A cache type written in
// Python that calls back into its own trikv.Cache from inside a call would wait for itself
// forever: that re-entry raises RuntimeError instead.
class Busy {
public:
    explicit Busy(CacheHandle& handle) : handle_(handle) {
        if (handle.holder.load() == std::this_thread::get_id())
            throw std::runtime_error("trikv.Cache('" + printable(handle.cache->spec()) +
                                     "'): called again from inside one of its own calls (a Python cache type "
                                     "calling back into the trikv.Cache that drives it)");
        handle.busy.lock();
        handle.holder = std::this_thread::get_id();
    }
    ~Busy() {
        handle_.holder = std::thread::id();
        handle_.busy.unlock();
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

private:
    CacheHandle& handle_;
};

void require_within(const char* name, std::size_t value, bounds::Range range) {
    require(value >= std::size_t(range.min) && value <= std::size_t(range.max),
            std::string(name) + ": " + std::to_string(value) + " is outside " + std::to_string(range.min) + " to " +
                std::to_string(range.max));
}

// Tokens in `a`, which must be [heads, d] (one token) or [count, heads, d] like the cache, with
// heads = the cache's kv_heads for keys and values and its heads for queries.
std::size_t token_count(const py::array& a, const std::string& name, const CacheShape& shape, bool keys) {
    const std::size_t heads = keys ? shape.kv_heads : shape.heads;
    const bool one = a.ndim() == 2, block = a.ndim() == 3;
    const std::size_t count = block ? a.shape(0) : 1;
    if ((one || block) && std::size_t(a.shape(a.ndim() - 2)) == heads &&
        std::size_t(a.shape(a.ndim() - 1)) == shape.dim && count > 0)
        return count;
    // Messages are built only here, off the per-call path.
    const std::string label = keys ? "kv_heads" : "heads";
    const std::string expected = "expected [" + label + ", d] = [" + std::to_string(heads) + ", " +
                                 std::to_string(shape.dim) + "] or [count, " + label + ", d]";
    require(one || block, name + ": shape " + shape_text(a) + " has " + std::to_string(a.ndim()) +
                              " dimensions; " + expected);
    require(count > 0, name + ": shape " + shape_text(a) + " is empty; expected count ≥ 1");
    throw Error(name + ": shape " + shape_text(a) + " does not match the cache; " + expected);
}

void append(CacheHandle& handle, py::handle k1, py::handle k2, py::handle v1, py::handle v2) {
    const CacheShape& shape = handle.cache->shape();
    const auto a1 = finite_array<float>(k1, "k1"), a2 = finite_array<float>(k2, "k2"),
               b1 = finite_array<float>(v1, "v1"), b2 = finite_array<float>(v2, "v2");
    const std::size_t count = token_count(a1, "k1", shape, /*keys=*/true);
    const std::pair<const py::array*, const char*> others[] = {{&a2, "k2"}, {&b1, "v1"}, {&b2, "v2"}};
    for (const auto& [array, name] : others)
        if (shape_of(*array) != shape_of(a1))
            throw Error(std::string(name) + ": shape " + shape_text(*array) + " differs from k1's " + shape_text(a1));
    const GilReleased unlocked;
    const Busy busy(handle);
    handle.cache->append(count, a1.data(), a2.data(), b1.data(), b2.data());
}

py::array_t<float> attend(CacheHandle& handle, py::handle q) {
    const auto queries = finite_array<float>(q, "q");
    const std::size_t count = token_count(queries, "q", handle.cache->shape(), /*keys=*/false);
    py::array_t<float> out(std::vector<py::ssize_t>(queries.shape(), queries.shape() + queries.ndim()));
    float* result = out.mutable_data();
    {
        const GilReleased unlocked;
        const Busy busy(handle);
        handle.cache->attend(count, queries.data(), result);
    }
    const std::size_t width = handle.cache->shape().query_width(), bad = first_non_finite(result, count * width);
    if (bad < count * width)
        throw Error(overflow_message("attend: cache '" + handle.cache->spec() + "': output of query " +
                                         std::to_string(bad / width) + ", head " +
                                         std::to_string(bad % width / handle.cache->shape().dim),
                                     result[bad], "float32", "scale the inputs or the scale down"));
    return out;
}

py::dict cost_dict(const CacheCost& cost) {
    py::dict d;
    d["resident_bytes"] = cost.resident_bytes;
    d["transient_bytes"] = cost.transient_bytes;
    d["flops"] = cost.flops;
    d["bytes_moved"] = cost.bytes_moved;
    return d;
}

py::list cache_type_list() {
    py::list types;
    for (const CacheType* type : cache_types()) {
        py::list params;
        for (const CacheParam& p : type->params) {
            py::dict param;
            param["name"] = p.name;
            param["default"] = p.default_value;
            param["description"] = p.description;
            param["choices"] = p.choices;
            if (p.choices.empty()) {
                param["min"] = p.min;
                param["max"] = p.max;
                param["integer"] = p.integer;
            }
            params.append(param);
        }
        py::dict entry;
        entry["name"] = type->name;
        entry["description"] = type->description;
        entry["exact"] = type->exact;  // with its default parameters (is_exact(spec) for a given spec)
        entry["attention"] = type->attention == AttentionKind::tensor ? "tensor" : "matrix";
        entry["budget_rule"] = type->accuracy_ladder != nullptr;  // trikv.fit_budget can fit it
        entry["params"] = params;
        types.append(entry);
    }
    return types;
}

}  // namespace

void bind_caches(py::module_& m) {
    m.def("caches", &cache_type_list,
          "Every registered cache type, sorted by name: a list of dicts with name, description, exact\n"
          "(computes attention exactly up to rounding), attention ('tensor' or 'matrix') and params\n"
          "(name, default, description, and choices or min/max/integer).");
    m.def("is_exact", [](const std::string& spec) { return is_exact(parse_cache_spec(spec)); }, py::arg("spec"),
          "Whether a cache of `spec` computes its attention exactly (up to float32 rounding): its type's\n"
          "answer for these parameters (e.g. 'product' True, 'product:dtype=int8' False), as Cache.exact.");

    py::class_<CacheHandle>(m, "Cache", R"doc(
A per-layer, multi-head KV cache for tensor attention: any registered type (see trikv.caches()).

    cache = trikv.Cache("factor", heads=8, d=64)        # scale: the type's default (tensor 1/d, matrix 1/sqrt(d)), as the CLI
    cache.append(k1, k2, v1, v2)   # each [kv_heads, d] (one token) or [count, kv_heads, d] (a block)
    out = cache.attend(q)          # q [heads, d] -> [heads, d]; [count, heads, d] -> same shape

kv_heads (default: heads) groups the query heads: head h reads kv head h // (heads // kv_heads).
variant is 'trilinear' (default), 'rank1' or 'strassen'; k2_bias and v2_bias (default 0, no
shift) are added to every appended k2 and v2 (the reference's defaults are 1/d and 1).

attend(q) lets every query see every stored pair (i, j) (a block of queries is VAR's block
step). Inputs are NumPy arrays or torch CPU tensors; C-contiguous float32 is read in place,
anything else is converted once. Shapes, dtypes and non-finite values raise ValueError; an
append past set_memory_limit(bytes) raises MemoryError. The GIL is released while the cache works.
)doc")
        .def(py::init([](const std::string& spec, std::size_t heads, std::size_t d, std::optional<double> scale,
                         std::optional<std::size_t> kv_heads, const std::string& variant, double k2_bias,
                         double v2_bias) {
                 // The CLI's and study files' ranges: they keep every size product within 64 bits.
                 require_within("heads", heads, bounds::kHeads);
                 require_within("d", d, bounds::kHeadDim);
                 if (kv_heads) require_within("kv_heads", *kv_heads, bounds::kHeads);
                 // Unset: make_cache gives the type's attention kind its default, as every entry point.
                 const double s = scale.value_or(0);
                 require(std::isfinite(s), "scale: " + std::to_string(s) + " is not finite");
                 require(!scale || s > 0, "scale: " + std::to_string(s) + " must be positive");
                 require(std::isfinite(static_cast<float>(s)),
                         "scale: " + std::to_string(s) + " is beyond float32's range, the type caches compute in");
                 for (const auto& [name, bias] : {std::pair{"k2_bias", k2_bias}, std::pair{"v2_bias", v2_bias}})
                     require(std::isfinite(static_cast<float>(bias)),
                             std::string(name) + ": " + std::to_string(bias) + " is not a finite float32");
                 CacheShape shape{heads, d, s, kv_heads.value_or(heads), parse_variant(variant, "variant")};
                 shape.k2_bias = k2_bias;
                 shape.v2_bias = v2_bias;
                 auto handle = std::make_unique<CacheHandle>();
                 handle->cache = make_cache(spec, shape);
                 return handle;
             }),
             py::arg("spec"), py::arg("heads"), py::arg("d"), py::arg("scale") = py::none(),
             py::arg("kv_heads") = py::none(), py::arg("variant") = "trilinear", py::arg("k2_bias") = 0.0,
             py::arg("v2_bias") = 0.0,
             "Builds the cache `spec` ('name' or 'name:key=value,...') for `heads` query heads of dimension d\n"
             "over kv_heads key/value heads, scoring with `variant`, shifting k2 and v2 by the biases.")
        .def("append", &append, py::arg("k1"), py::arg("k2"), py::arg("v1"), py::arg("v2"),
             "Appends one token ([kv_heads, d] each) or a block ([count, kv_heads, d] each).")
        .def("attend", &attend, py::arg("q"),
             "Tensor attention of each query over every stored pair: [heads, d] -> [heads, d], or\n"
             "[count, heads, d] -> [count, heads, d]. Needs at least one stored token.")
        .def("clear", [](CacheHandle& h) {
                 const GilReleased unlocked;  // never wait for the lock holding the GIL
                 const Busy busy(h);
                 h.cache->clear();
             },
             "Drops every token and returns the storage.")
        .def("reserve", [](CacheHandle& h, std::size_t tokens) {
                 // The CLI's bound on n keeps the cost models' size products within 64 bits, so
                 // reserve's check against memory sees the true size, not a wrapped one.
                 require(tokens <= std::size_t(bounds::kTokens.max), "reserve: tokens: " + std::to_string(tokens) +
                                                                         " is outside 0 to " +
                                                                         std::to_string(bounds::kTokens.max));
                 const GilReleased unlocked;
                 const Busy busy(h);
                 h.cache->reserve(tokens);
             },
             py::arg("tokens"), "Allocates storage for `tokens` tokens up front, so appends then never allocate.")
        .def("cost", [](const CacheHandle& h, std::optional<std::size_t> tokens) {
                 // As reserve: beyond the CLI's n, the cost models' size products may wrap.
                 require(!tokens || *tokens <= std::size_t(bounds::kTokens.max),
                         "cost: tokens: " + std::to_string(tokens.value_or(0)) + " is outside 0 to " +
                             std::to_string(bounds::kTokens.max));
                 return cost_dict(h.cache->cost(tokens.value_or(h.cache->size())));
             },
             py::arg("tokens") = py::none(),
             "The cache's cost model of one attend after `tokens` tokens (default: now): a dict of\n"
             "resident_bytes, transient_bytes, flops and bytes_moved.")
        .def("__len__", [](const CacheHandle& h) { return h.cache->size(); })
        .def("__repr__", [](py::handle self) -> std::string {
            // An instance whose __init__ raised (or never ran) is still repr'd by tracebacks
            // (pytest's); its value is uninitialised memory, which segfaulted: ask pybind11.
            auto* instance = reinterpret_cast<py::detail::instance*>(self.ptr());
            const py::detail::value_and_holder held = instance->get_value_and_holder();
            if (!held.holder_constructed()) return "trikv.Cache(<not constructed>)";
            const CacheHandle& h = self.cast<const CacheHandle&>();
            const CacheShape& s = h.cache->shape();
            return "trikv.Cache('" + h.cache->spec() + "', heads=" + std::to_string(s.heads) + ", d=" +
                   std::to_string(s.dim) + ", tokens=" + std::to_string(h.cache->size()) + ")";
        })
        .def_property_readonly("bytes", [](const CacheHandle& h) { return h.cache->bytes(); },
                               "Bytes the cache holds now, counted through its allocator.")
        .def_property_readonly("logical_bytes", [](const CacheHandle& h) { return h.cache->logical_bytes(); },
                               "Of bytes, those holding stored data: storage chunks allocated ahead and not\n"
                               "yet filled left out (equal to bytes for a type written in Python).")
        .def_property_readonly("transient_peak_bytes", [](const CacheHandle& h) { return h.cache->transient_peak_bytes(); },
                               "Peak scratch bytes of the last attend, counted.")
        .def_property_readonly("spec", [](const CacheHandle& h) { return h.cache->spec(); },
                               "The canonical spec: every parameter spelled out.")
        .def_property_readonly("heads", [](const CacheHandle& h) { return h.cache->shape().heads; })
        .def_property_readonly("kv_heads", [](const CacheHandle& h) { return h.cache->shape().kv_heads; })
        .def_property_readonly("variant", [](const CacheHandle& h) { return variant_name(h.cache->shape().variant); })
        .def_property_readonly("d", [](const CacheHandle& h) { return h.cache->shape().dim; })
        .def_property_readonly("scale", [](const CacheHandle& h) { return h.cache->shape().scale; },
                               "The scale of the scores: the one given, or the type's default (tensor 1/d, matrix 1/sqrt(d)).")
        .def_property_readonly("exact", [](const CacheHandle& h) { return h.cache->exact(); },
                               "Whether the cache computes its attention exactly (up to float32 rounding): its\n"
                               "type's answer for its parameters (reduced-precision storage is approximate).")
        .def("set_memory_limit", [](CacheHandle& h, std::size_t bytes) { h.cache->set_memory_limit(bytes); },
             py::arg("bytes"),
             "An append that would take the resident bytes (by the cost model) above `bytes` raises\n"
             "MemoryError and leaves the cache as it was; 0 removes the limit.");
}

}  // namespace trikv::python
