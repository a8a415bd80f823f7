// `trikv attend` — token-by-token decode of .npy inputs: for t = 0..n−1, append token t,
// then out[t] = tensor attention of q[t] over every pair (i, j) with i, j ≤ t. Keys and values
// may have fewer heads than q (grouped-query attention: h_kv must divide h); --variant and the
// k2/v2 bias select the 2-simplicial layer's score and shift (docs/math.md §9).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "caches/sequence_decode.hpp"
#include "framework/checked.hpp"
#include "framework/error.hpp"
#include "framework/finite.hpp"
#include "framework/npy.hpp"
#include "framework/threads.hpp"
#include "studies/cli/arguments.hpp"
#include "studies/cli/commands.hpp"
#include "studies/measure/measure.hpp"

namespace trikv::cli {
namespace {

struct AttendOptions {
    std::string q, k1, k2, v1, v2, out;
    std::optional<double> scale;
    std::optional<std::string> cache;  // absent: the exact engine in the inputs' dtype (or kGroupedDefaultCache)
    int threads = 0;
    std::string mem_limit;  // empty: no limit
    std::string variant = "trilinear";
    std::string k2_bias = "0", v2_bias = "0";  // a number, or kReferenceBias
};

// Spelling of "the reference implementation's default bias" (b_k = 1/d, b_v = 1, docs/math.md §9).
constexpr const char* kReferenceBias = "default";
// The cache a run goes through when the exact engine cannot serve it (grouped heads, a variant
// other than trilinear or a bias) and --cache is not given: exact, float32, every variant.
constexpr const char* kGroupedDefaultCache = "factor";

// The bias `text` names for --k2-bias (reference value 1/d) or --v2-bias (1).
double parse_bias(const std::string& text, const char* option, double reference_value) {
    if (text == kReferenceBias) return reference_value;
    std::size_t end = 0;
    double value = 0;
    try {
        value = std::stod(text, &end);
    } catch (const std::exception&) {
        end = 0;
    }
    require(end == text.size() && end > 0 && std::isfinite(value),
            std::string(option) + ": '" + printable(text) + "' is neither a finite number nor '" + kReferenceBias + "'");
    return value;
}

constexpr const char* kInputOptions[] = {"--q", "--k1", "--k2", "--v1", "--v2"};

std::vector<std::string> input_paths(const AttendOptions& opt) { return {opt.q, opt.k1, opt.k2, opt.v1, opt.v2}; }

std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + ")";
}

// Every input must be float, non-empty, [n,d] or [h,n,d], and like q in dtype and in shape —
// except that keys and values may have h_kv heads where q has h, h_kv dividing h (all four
// alike): checked on the headers, before any data is read.
NpyHeader validated_header(const AttendOptions& opt) {
    const std::vector<std::string> paths = input_paths(opt);
    std::vector<NpyHeader> headers;
    for (const std::string& path : paths) headers.push_back(read_npy_header(path));
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const NpyHeader& a = headers[i];
        const std::string where = std::string(kInputOptions[i]) + " " + printable(paths[i]);
        require(a.shape.size() == 2 || a.shape.size() == 3,
                where + ": shape " + shape_text(a.shape) + " has " + std::to_string(a.shape.size()) +
                    " dimensions; expected [n, d] or [h, n, d]");
        require(a.size() > 0, where + ": shape " + shape_text(a.shape) + " is empty; expected n, d (and h) ≥ 1");
        require(a.dtype == headers[0].dtype, where + ": dtype " + numpy_dtype_name(a.dtype) + " differs from --q's " +
                                                 numpy_dtype_name(headers[0].dtype) + "; all inputs must share one dtype");
        const NpyHeader& first_key = headers[i == 0 ? 0 : 1];
        const bool grouped = i > 0 && a.shape.size() == 3 && headers[0].shape.size() == 3 &&
                             a.shape[0] > 0 && headers[0].shape[0] % a.shape[0] == 0 && a.shape[1] == headers[0].shape[1] &&
                             a.shape[2] == headers[0].shape[2] && a.shape == first_key.shape;
        require(a.shape == headers[0].shape || grouped,
                where + ": shape " + shape_text(a.shape) + " differs from --q's " + shape_text(headers[0].shape) +
                    (i > 0 ? " (keys and values may have fewer heads h_kv, dividing q's, all four alike)" : ""));
    }
    return headers[0];
}

struct Dims {
    std::size_t h, kv, n, d;
};

Dims dims_of(const NpyHeader& q, const NpyHeader& k1) {
    return q.shape.size() == 2 ? Dims{1, 1, q.shape[0], q.shape[1]}
                               : Dims{q.shape[0], k1.shape[0], q.shape[1], q.shape[2]};
}

// The bytes attend allocates at its peak, from the headers and the cache's cost model: the five
// inputs converted to T (plus, while loading, one file as read), the output (plus, while
// writing, its bytes in the file's dtype), and the cache's storage, one attend's scratch and
// the one token run_cache gathers (q, k1, k2, v1, v2 and the result, h·d each). The exact
// engine's scratch, a few tiles per worker whatever n is, is not counted. In double:
// a cost model may project more than 64 bits hold.
template <Scalar T>
double projected_bytes(const NpyHeader& q, const Dims& dims, const Cache* cache) {
    const double file = double(q.data_bytes), converted = double(q.size()) * sizeof(T);  // q's, the largest
    const double keys = double(dims.kv * dims.n * dims.d) * sizeof(T);
    const CacheCost cost = cache ? cache->cost(dims.n) : CacheCost{};
    const double token = cache ? double((2 * dims.h + 4 * dims.kv) * dims.d) * sizeof(float) : 0;
    return converted + 4 * keys +
           std::max({file, converted + cost.resident_bytes + cost.transient_bytes + token, converted + file});
}

template <Scalar T>
Heads<T> load_heads(const std::string& path, const std::string& option, std::size_t head_count, const Dims& dims) {
    Heads<T> heads = Heads<T>::from_shape({head_count, dims.n, dims.d});
    read_npy(path).copy_finite_to(heads.data(), option + " " + printable(path));
    return heads;
}

template <Scalar T>
struct Inputs {
    Heads<T> q, k1, k2, v1, v2;

    explicit Inputs(const AttendOptions& opt, const Dims& dims)
        : q(load_heads<T>(opt.q, "--q", dims.h, dims)),
          k1(load_heads<T>(opt.k1, "--k1", dims.kv, dims)),
          k2(load_heads<T>(opt.k2, "--k2", dims.kv, dims)),
          v1(load_heads<T>(opt.v1, "--v1", dims.kv, dims)),
          v2(load_heads<T>(opt.v2, "--v2", dims.kv, dims)) {}
};

// Through a registered cache (float32): append token t, attend q[t].
Heads<float> run_cache(const Inputs<float>& in, Cache& cache) {
    const std::size_t h = in.q.shape(0), n = in.q.shape(1), d = in.q.shape(2);
    cache.reserve(n);
    Heads<float> out = Heads<float>::from_shape({h, n, d});
    decode_sequence(cache, n, in.q.data(), in.k1.data(), in.k2.data(), in.v1.data(), in.v2.data(), out.data());
    return out;
}

// A NaN or infinity in the output means a score overflowed: an error, never a silent NaN file.
template <Scalar T>
void require_finite_output(const Heads<T>& out, const char* type) {
    const std::size_t index = first_non_finite(out.data(), out.size()), n = out.shape(1), d = out.shape(2);
    if (index == out.size()) return;
    throw Error(overflow_message("attend: output of head " + std::to_string(index / (n * d)) + ", token " +
                                     std::to_string(index / d % n),
                                 out.data()[index], type, "scale the inputs or --scale down"));
}

// Writes `out` in q's shape and dtype (cache outputs are float32; float64 inputs get float64 back).
template <Scalar T>
void write_like(const std::string& path, const Heads<T>& out, const NpyHeader& q) {
    NpyArray file{q.dtype, q.shape, std::vector<std::byte>(q.data_bytes)};
    if (q.dtype == Dtype::f64) {
        for (std::size_t i = 0; i < out.size(); ++i) {
            const double value = out.data()[i];
            std::memcpy(file.data.data() + i * sizeof(double), &value, sizeof(double));
        }
    } else {
        for (std::size_t i = 0; i < out.size(); ++i) {
            const float value = static_cast<float>(out.data()[i]);
            std::memcpy(file.data.data() + i * sizeof(float), &value, sizeof(float));
        }
    }
    write_npy(path, file);
}

// Decodes in T: float32 through a cache or for float32 inputs, else float64 through the engine.
template <Scalar T>
void decode(const AttendOptions& opt, const NpyHeader& q, const CacheShape& shape, const std::optional<std::string>& spec,
            std::size_t mem_limit) {
    constexpr const char* type = std::is_same_v<T, float> ? "float32" : "float64";
    const Dims dims{shape.heads, shape.kv_heads, q.shape[q.shape.size() - 2], shape.dim};
    const double scale = shape.scale;
    require(std::isfinite(static_cast<T>(scale)),
            "--scale: " + format_number(scale) + " is beyond " + type + "'s range, the type attend computes in");
    const std::unique_ptr<Cache> cache = spec ? make_cache(*spec, shape) : nullptr;
    const double projected = projected_bytes<T>(q, dims, cache.get());
    const std::string allocation = "attend would allocate " + format_number(projected) + " bytes for h=" +
                                   std::to_string(dims.h) + " n=" + std::to_string(dims.n) + " d=" +
                                   std::to_string(dims.d) +
                                   (cache ? " with cache '" + cache->spec() + "'" : std::string(" (exact engine)"));
    require(mem_limit == 0 || projected <= double(mem_limit),
            "--mem-limit: " + allocation + ", above the limit of " + std::to_string(mem_limit) + " bytes");
    require(projected <= double(physical_memory_bytes()),
            allocation + ", more than this machine's " + std::to_string(physical_memory_bytes()) + " bytes of memory");
    const Inputs<T> in(opt, dims);
    Heads<T> out;
    if constexpr (std::is_same_v<T, float>) {
        if (cache) {
            cache->set_memory_limit(mem_limit);
            out = run_cache(in, *cache);
        }
    }
    if (!cache) out = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, /*causal=*/true, static_cast<T>(scale));
    require_finite_output(out, type);
    write_like(opt.out, out, q);
}

void run(const AttendOptions& opt) {
    ThreadControl threads(opt.threads);
    if (opt.cache) parse_cache_spec(*opt.cache);  // a bad spec fails before any file is read
    const ScoreVariant variant = parse_variant(opt.variant, "--variant");
    const std::size_t mem_limit = opt.mem_limit.empty() ? 0 : static_cast<std::size_t>(memory_limit(parse_mem_limit(opt.mem_limit, "--mem-limit")));
    const NpyHeader q = validated_header(opt);
    const Dims dims = dims_of(q, read_npy_header(opt.k1));
    CacheShape shape{dims.h, dims.d, opt.scale.value_or(default_tensor_scale(dims.d)), dims.kv, variant};
    shape.k2_bias = parse_bias(opt.k2_bias, "--k2-bias", 1.0 / static_cast<double>(dims.d));
    shape.v2_bias = parse_bias(opt.v2_bias, "--v2-bias", 1.0);
    // The exact engine computes plain tensor attention; anything else goes through a cache.
    const bool plain = dims.kv == dims.h && variant == ScoreVariant::trilinear && shape.k2_bias == 0 && shape.v2_bias == 0;
    const std::optional<std::string> spec = opt.cache ? opt.cache : plain ? std::nullopt
                                                                          : std::optional<std::string>(kGroupedDefaultCache);
    if (spec || q.dtype == Dtype::f32) {
        decode<float>(opt, q, shape, spec, mem_limit);
    } else {
        decode<double>(opt, q, shape, spec, mem_limit);
    }
}

}  // namespace

void add_attend_command(CLI::App& app) {
    auto opt = std::make_shared<AttendOptions>();
    CLI::App* command = app.add_subcommand(
        "attend", "Decode token by token: out[t] = tensor attention of q[t] over all pairs (i, j ≤ t)");
    command->add_option("--q", opt->q, "queries, .npy [n,d] or [h,n,d], float32 or float64")->required();
    command->add_option("--k1", opt->k1,
                        "first keys, same shape and dtype as --q, or [h_kv,n,d] with h_kv dividing h (grouped heads: "
                        "query head i reads kv head i/(h/h_kv))")
        ->required();
    command->add_option("--k2", opt->k2, "second keys")->required();
    command->add_option("--v1", opt->v1, "first values")->required();
    command->add_option("--v2", opt->v2, "second values")->required();
    command->add_option("--out", opt->out,
                        "output .npy, q's shape and dtype: a file is replaced atomically (through a symlink, its "
                        "target); a pipe or device such as /dev/stdout is streamed to")
        ->required();
    command->add_option("--scale", opt->scale, "score scale (default 1/d)")->check(finite_number());
    command->add_option("--cache", opt->cache,
                        std::string("decode through this cache spec (float32), e.g. factor, product; "
                                    "default: the exact engine in the inputs' dtype, or '") +
                            kGroupedDefaultCache + "' with grouped heads, a variant or a bias (see `trikv caches`)");
    command->add_option("--variant", opt->variant,
                        "score: trilinear <q,k1*k2>, rank1 <q,k1>+<q,k2>, strassen rank1+<k1,k2> (docs/math.md §9)")
        ->check(CLI::IsMember(variant_names()));
    command->add_option("--k2-bias", opt->k2_bias,
                        std::string("added to every k2: a number (0 = none) or '") + kReferenceBias +
                            "', the reference's 1/d");
    command->add_option("--v2-bias", opt->v2_bias,
                        std::string("added to every v2: a number (0 = none) or '") + kReferenceBias +
                            "', the reference's 1");
    command->add_option("--threads", opt->threads, "worker threads (0 = all)")->check(whole_in(bounds::kThreads));
    command->add_option("--mem-limit", opt->mem_limit,
                        "refuse, before reading the inputs' data, a run allocating more than BYTES (or P% of the "
                        "available memory): inputs, output and the cache or engine")
        ->check(mem_limit_text());
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
