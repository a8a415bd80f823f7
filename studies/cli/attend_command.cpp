// `trikv attend` — token-by-token decode of .npy inputs: for t = 0..n−1, append token t,
// then out[t] = tensor attention of q[t] over every pair (i, j) with i, j ≤ t.
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>

#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/npy.hpp"
#include "framework/threads.hpp"
#include "studies/cli/commands.hpp"

namespace trikv::cli {
namespace {

struct AttendOptions {
    std::string q, k1, k2, v1, v2, out;
    std::optional<double> scale;
    std::string cache;  // empty: the exact engine in the inputs' dtype
    int threads = 0;
    std::size_t mem_limit = 0;  // bytes a cache may hold; 0 = no limit
};

struct Inputs {
    NpyArray q, k1, k2, v1, v2;
};

// Every input must be float, finite, non-empty, [n,d] or [h,n,d], and like q in shape and dtype.
void validate(const Inputs& in, const AttendOptions& opt) {
    const std::pair<const NpyArray*, const std::string*> arrays[] = {
        {&in.q, &opt.q}, {&in.k1, &opt.k1}, {&in.k2, &opt.k2}, {&in.v1, &opt.v1}, {&in.v2, &opt.v2}};
    const char* names[] = {"--q", "--k1", "--k2", "--v1", "--v2"};
    auto shape_text = [](const NpyArray& a) {
        std::string text = "(";
        for (std::size_t i = 0; i < a.shape.size(); ++i) text += (i ? ", " : "") + std::to_string(a.shape[i]);
        return text + ")";
    };
    for (int i = 0; i < 5; ++i) {
        const NpyArray& a = *arrays[i].first;
        const std::string where = std::string(names[i]) + " " + *arrays[i].second;
        require(a.shape.size() == 2 || a.shape.size() == 3,
                where + ": shape " + shape_text(a) + " has " + std::to_string(a.shape.size()) +
                    " dimensions; expected [n, d] or [h, n, d]");
        require(a.size() > 0, where + ": shape " + shape_text(a) + " is empty; expected n, d (and h) ≥ 1");
        require(a.dtype == in.q.dtype, where + ": dtype " + dtype_name(a.dtype) + " differs from --q's " +
                                           dtype_name(in.q.dtype) + "; all inputs must share one dtype");
        require(a.shape == in.q.shape, where + ": shape " + shape_text(a) + " differs from --q's " +
                                           shape_text(in.q));
        const xt::xarray<double> values = a.to_xarray<double>();
        for (std::size_t k = 0; k < values.size(); ++k)
            require(std::isfinite(values.flat(k)), where + ": element " + std::to_string(k) + " is " +
                                                       std::to_string(values.flat(k)) + "; inputs must be finite");
    }
}

template <Scalar T>
Heads<T> as_heads(const NpyArray& a) {
    xt::xarray<T> x = a.to_xarray<T>();
    if (x.dimension() == 2) x.reshape({1, x.shape(0), x.shape(1)});
    Heads<T> heads = x;
    return heads;
}

// The exact engine in T: decode step t is causal prefill row t.
template <Scalar T>
Heads<T> run_engine(const Inputs& in, double scale) {
    return tensor_prefill(as_heads<T>(in.q), as_heads<T>(in.k1), as_heads<T>(in.k2), as_heads<T>(in.v1),
                          as_heads<T>(in.v2), /*causal=*/true, static_cast<T>(scale));
}

// Through a registered cache (float32): append token t, attend q[t].
Heads<float> run_cache(const Inputs& in, const std::string& spec, double scale, std::size_t mem_limit) {
    const Heads<float> q = as_heads<float>(in.q), k1 = as_heads<float>(in.k1), k2 = as_heads<float>(in.k2),
                       v1 = as_heads<float>(in.v1), v2 = as_heads<float>(in.v2);
    const std::size_t h = q.shape(0), n = q.shape(1), d = q.shape(2);
    const std::unique_ptr<Cache> cache = make_cache(spec, {h, d, scale});
    const double projected = cache->cost(n).resident_bytes;
    require(mem_limit == 0 || projected <= double(mem_limit),
            "--mem-limit: cache '" + cache->spec() + "' would hold " + std::to_string(static_cast<long long>(projected)) +
                " bytes for n=" + std::to_string(n) + ", above the limit of " + std::to_string(mem_limit) + " bytes");
    cache->set_memory_limit(mem_limit);
    cache->reserve(n);
    Heads<float> out = xt::zeros<float>({h, n, d});
    std::vector<float> token(5 * h * d), result(h * d);
    for (std::size_t t = 0; t < n; ++t) {
        // Gather token t of every head into [h, d] rows, the layout the cache takes.
        const Heads<float>* sources[5] = {&q, &k1, &k2, &v1, &v2};
        for (std::size_t s = 0; s < 5; ++s)
            for (std::size_t head = 0; head < h; ++head)
                std::copy_n(sources[s]->data() + (head * n + t) * d, d, token.data() + (s * h + head) * d);
        cache->append(1, &token[1 * h * d], &token[2 * h * d], &token[3 * h * d], &token[4 * h * d]);
        cache->attend(1, &token[0], result.data());
        for (std::size_t head = 0; head < h; ++head)
            std::copy_n(result.data() + head * d, d, out.data() + (head * n + t) * d);
    }
    return out;
}

template <Scalar T>
void write_like(const std::string& path, const Heads<T>& out, const NpyArray& q) {
    xt::xarray<T> result = out;
    result.reshape(q.shape);
    NpyArray file = make_npy(result);
    if (file.dtype != q.dtype) {  // cache outputs are float32; hand back q's dtype
        file = q.dtype == DType::float64 ? make_npy(xt::xarray<double>(xt::cast<double>(result)))
                                         : make_npy(xt::xarray<float>(xt::cast<float>(result)));
    }
    write_npy(path, file);
}

void run(const AttendOptions& opt) {
    ThreadControl threads(opt.threads);
    if (!opt.cache.empty()) parse_cache_spec(opt.cache);  // a bad spec fails before any file is read
    Inputs in{read_npy(opt.q), read_npy(opt.k1), read_npy(opt.k2), read_npy(opt.v1), read_npy(opt.v2)};
    validate(in, opt);
    const std::size_t d = in.q.shape.back();
    const double scale = opt.scale.value_or(default_tensor_scale(d));
    if (!opt.cache.empty()) {
        write_like(opt.out, run_cache(in, opt.cache, scale, opt.mem_limit), in.q);
    } else if (in.q.dtype == DType::float64) {
        write_like(opt.out, run_engine<double>(in, scale), in.q);
    } else {
        write_like(opt.out, run_engine<float>(in, scale), in.q);
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
    command->add_option("--out", opt->out, "output .npy, q's shape and dtype (written atomically)")->required();
    command->add_option("--scale", opt->scale, "score scale (default 1/d)");
    command->add_option("--cache", opt->cache,
                        "decode through this cache spec (float32), e.g. factor, product; "
                        "default: the exact engine in the inputs' dtype (see `trikv caches`)");
    command->add_option("--threads", opt->threads, "worker threads (0 = all)")->check(CLI::Range(0, 4096));
    command->add_option("--mem-limit", opt->mem_limit, "with --cache: refuse a cache holding more than this many bytes")
        ->check(CLI::PositiveNumber);
    command->callback([opt] {
        require(!opt->scale || std::isfinite(*opt->scale),
                "--scale: " + std::to_string(opt->scale.value_or(0)) + " is not finite");
        run(*opt);
    });
}

}  // namespace trikv::cli
