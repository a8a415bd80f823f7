// `trikv attend` — token-by-token decode of .npy inputs: for t = 0..n−1, append token t,
// then out[t] = tensor attention of q[t] over every pair (i, j) with i, j ≤ t.
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
#include "framework/npy.hpp"
#include "framework/threads.hpp"
#include "studies/cli/arguments.hpp"
#include "studies/cli/commands.hpp"

namespace trikv::cli {
namespace {

struct AttendOptions {
    std::string q, k1, k2, v1, v2, out;
    std::optional<double> scale;
    std::optional<std::string> cache;  // absent: the exact engine in the inputs' dtype
    int threads = 0;
    std::string mem_limit;  // empty: no limit
};

constexpr const char* kInputOptions[] = {"--q", "--k1", "--k2", "--v1", "--v2"};

std::vector<std::string> input_paths(const AttendOptions& opt) { return {opt.q, opt.k1, opt.k2, opt.v1, opt.v2}; }

std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + ")";
}

// Every input must be float, non-empty, [n,d] or [h,n,d], and like q in shape and dtype:
// checked on the headers, before any data is read.
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
        require(a.dtype == headers[0].dtype, where + ": dtype " + dtype_name(a.dtype) + " differs from --q's " +
                                                 dtype_name(headers[0].dtype) + "; all inputs must share one dtype");
        require(a.shape == headers[0].shape,
                where + ": shape " + shape_text(a.shape) + " differs from --q's " + shape_text(headers[0].shape));
    }
    return headers[0];
}

struct Dims {
    std::size_t h, n, d;
};

Dims dims_of(const NpyHeader& q) {
    return q.shape.size() == 2 ? Dims{1, q.shape[0], q.shape[1]} : Dims{q.shape[0], q.shape[1], q.shape[2]};
}

// The bytes attend allocates at its peak, from the headers and the cache's cost model: the five
// inputs converted to T (plus, while loading, one file as read), the output (plus, while
// writing, its bytes in the file's dtype), and the cache's storage, one attend's scratch and
// the one token run_cache gathers (q, k1, k2, v1, v2 and the result, h·d each). The exact
// engine's scratch, a few tiles per worker whatever n is, is not counted. In double:
// a cost model may project more than 64 bits hold.
template <Scalar T>
double projected_bytes(const NpyHeader& q, const Cache* cache) {
    const double file = double(q.data_bytes), converted = double(q.size()) * sizeof(T);
    const Dims dims = dims_of(q);
    const CacheCost cost = cache ? cache->cost(dims.n) : CacheCost{};
    const double token = cache ? 6.0 * double(dims.h * dims.d) * sizeof(float) : 0;
    return 5 * converted +
           std::max({file, converted + cost.resident_bytes + cost.transient_bytes + token, converted + file});
}

template <Scalar T>
Heads<T> load_heads(const std::string& path, const std::string& option, const Dims& dims) {
    Heads<T> heads = Heads<T>::from_shape({dims.h, dims.n, dims.d});
    read_npy(path).copy_finite_to(heads.data(), option + " " + printable(path));
    return heads;
}

template <Scalar T>
struct Inputs {
    Heads<T> q, k1, k2, v1, v2;

    explicit Inputs(const AttendOptions& opt, const Dims& dims)
        : q(load_heads<T>(opt.q, "--q", dims)),
          k1(load_heads<T>(opt.k1, "--k1", dims)),
          k2(load_heads<T>(opt.k2, "--k2", dims)),
          v1(load_heads<T>(opt.v1, "--v1", dims)),
          v2(load_heads<T>(opt.v2, "--v2", dims)) {}
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
    const T* bad = std::find_if(out.data(), out.data() + out.size(), [](T x) { return !std::isfinite(x); });
    if (bad == out.data() + out.size()) return;
    const std::size_t index = static_cast<std::size_t>(bad - out.data()), n = out.shape(1), d = out.shape(2);
    throw Error("attend: output of head " + std::to_string(index / (n * d)) + ", token " +
                std::to_string(index / d % n) + " is " + (std::isnan(*bad) ? "NaN" : "infinite") +
                ": the scores overflow " + type + "; scale the inputs or --scale down");
}

// Writes `out` in q's shape and dtype (cache outputs are float32; float64 inputs get float64 back).
template <Scalar T>
void write_like(const std::string& path, const Heads<T>& out, const NpyHeader& q) {
    NpyArray file{q.dtype, q.shape, std::vector<std::byte>(q.data_bytes)};
    if (q.dtype == DType::float64) {
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
void decode(const AttendOptions& opt, const NpyHeader& q, std::size_t mem_limit) {
    constexpr const char* type = std::is_same_v<T, float> ? "float32" : "float64";
    const Dims dims = dims_of(q);
    const double scale = opt.scale.value_or(default_tensor_scale(dims.d));
    require(std::isfinite(static_cast<T>(scale)),
            "--scale: " + format_number(scale) + " is beyond " + type + "'s range, the type attend computes in");
    const std::unique_ptr<Cache> cache = opt.cache ? make_cache(*opt.cache, {dims.h, dims.d, scale}) : nullptr;
    const double projected = projected_bytes<T>(q, cache.get());
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
    const std::size_t mem_limit = opt.mem_limit.empty() ? 0 : parse_mem_limit(opt.mem_limit).resolve();
    const NpyHeader q = validated_header(opt);
    if (opt.cache || q.dtype == DType::float32) {
        decode<float>(opt, q, mem_limit);
    } else {
        decode<double>(opt, q, mem_limit);
    }
}

}  // namespace

void add_attend_command(CLI::App& app) {
    auto opt = std::make_shared<AttendOptions>();
    CLI::App* command = app.add_subcommand(
        "attend", "Decode token by token: out[t] = tensor attention of q[t] over all pairs (i, j ≤ t)");
    command->add_option("--q", opt->q, "queries, .npy [n,d] or [h,n,d], float32 or float64")->required();
    command->add_option("--k1", opt->k1, "first keys, same shape and dtype as --q")->required();
    command->add_option("--k2", opt->k2, "second keys")->required();
    command->add_option("--v1", opt->v1, "first values")->required();
    command->add_option("--v2", opt->v2, "second values")->required();
    command->add_option("--out", opt->out,
                        "output .npy, q's shape and dtype: a file is replaced atomically (through a symlink, its "
                        "target); a pipe or device such as /dev/stdout is streamed to")
        ->required();
    command->add_option("--scale", opt->scale, "score scale (default 1/d)")->check(finite_number());
    command->add_option("--cache", opt->cache,
                        "decode through this cache spec (float32), e.g. factor, product; "
                        "default: the exact engine in the inputs' dtype (see `trikv caches`)");
    command->add_option("--threads", opt->threads, "worker threads (0 = all)")->check(whole_in(bounds::kThreads));
    command->add_option("--mem-limit", opt->mem_limit,
                        "refuse, before reading the inputs' data, a run allocating more than BYTES (or P% of the "
                        "available memory): inputs, output and the cache or engine")
        ->check(mem_limit_text());
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
