#include "studies/measure/token_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <utility>
#include <vector>

#include <xtensor/xview.hpp>

#include "framework/fnv_hash.hpp"
#include "framework/error.hpp"
#include "framework/npy.hpp"
#include "framework/rng.hpp"

namespace trikv {
namespace {

Heads<double> gaussian(std::size_t heads, std::size_t tokens, std::size_t d, Rng& rng) {
    Heads<double> x = xt::zeros<double>({heads, tokens, d});
    for (double& value : x) value = rng.normal();
    return x;
}

// Keys in `clusters` balls: centre c (N(0,1) entries, ‖c‖ ≈ √d) plus an offset of norm
// radius·√d·u^(1/d) in a uniform direction, i.e. uniform in the ball of radius δ√d.
Heads<double> clustered(std::size_t heads, std::size_t tokens, std::size_t d, const DataSpec& data, Rng& rng) {
    Heads<double> x = xt::zeros<double>({heads, tokens, d});
    const double ball = data.radius * std::sqrt(double(d));
    for (std::size_t h = 0; h < heads; ++h) {
        std::vector<double> centres(data.clusters * d);
        for (double& c : centres) c = rng.normal();
        for (std::size_t t = 0; t < tokens; ++t) {
            const double* centre = &centres[(rng.next() % data.clusters) * d];
            std::vector<double> direction(d);
            double norm = 0;
            for (double& v : direction) {
                v = rng.normal();
                norm += v * v;
            }
            const double length = ball * std::pow(rng.uniform(), 1.0 / double(d)) / std::sqrt(norm);
            for (std::size_t l = 0; l < d; ++l) x(h, t, l) = centre[l] + length * direction[l];
        }
    }
    return x;
}

// Rows of exactly `data.nonzeros` N(0, 1) non-zeros on supports chosen by `data.support`
// (studies/measure/token_data.hpp).
Heads<double> sparse(std::size_t heads, std::size_t tokens, std::size_t d, const DataSpec& data, Rng& rng) {
    const std::size_t s = data.nonzeros;
    require(s >= 1 && s <= d, "data.nonzeros = " + std::to_string(s) + " is out of range [1, d = " + std::to_string(d) + "]");
    Heads<double> x = xt::zeros<double>({heads, tokens, d});
    std::vector<std::size_t> coordinates(d);
    for (std::size_t h = 0; h < heads; ++h)
        for (std::size_t t = 0; t < tokens; ++t) {
            if (data.support == Support::random) {
                for (std::size_t l = 0; l < d; ++l) coordinates[l] = l;
                for (std::size_t k = 0; k < s; ++k) std::swap(coordinates[k], coordinates[k + rng.next() % (d - k)]);
            } else {
                const std::size_t first = (rng.next() % (d / s)) * s;
                for (std::size_t k = 0; k < s; ++k) coordinates[k] = first + k;
            }
            for (std::size_t k = 0; k < s; ++k) {
                double value = rng.normal();
                while (value == 0.0) value = rng.normal();
                x(h, t, coordinates[k]) = value;
            }
        }
    return x;
}

Heads<double> load(const DataSpec& data, const char* name, std::size_t heads, std::size_t tokens, std::size_t d) {
    const std::string path = data.arrays_dir() + "/" + name + ".npy";
    xt::xarray<double> x = read_npy(path).to_xarray<double>();
    if (x.dimension() == 2) x.reshape({1, x.shape(0), x.shape(1)});
    require(x.dimension() == 3, path + ": expected [n, d] or [h, n, d]");
    require(x.shape(0) == heads && x.shape(2) == d,
            path + ": holds h=" + std::to_string(x.shape(0)) + ", d=" + std::to_string(x.shape(2)) +
                "; the study point needs h=" + std::to_string(heads) + ", d=" + std::to_string(d));
    require(x.shape(1) >= tokens, path + ": holds " + std::to_string(x.shape(1)) + " tokens; the point needs " +
                                      std::to_string(tokens) + " (n + warmup + repetitions)");
    Heads<double> out = xt::zeros<double>({heads, tokens, d});
    for (std::size_t h = 0; h < heads; ++h)
        for (std::size_t t = 0; t < tokens; ++t)
            for (std::size_t l = 0; l < d; ++l) {
                out(h, t, l) = x(h, t, l);
                require(std::isfinite(out(h, t, l)), path + ": element (" + std::to_string(h) + ", " +
                                                         std::to_string(t) + ", " + std::to_string(l) + ") is not finite");
            }
    return out;
}

const char* const kNpyNames[] = {"q", "k1", "k2", "v1", "v2"};

}  // namespace

void inspect_npy_data(DataSpec& data) {
    std::error_code dir_error;  // a symlink loop: its path and why, not a filesystem_error
    const bool is_dir = std::filesystem::is_directory(data.dir, dir_error);
    if (dir_error && dir_error != std::errc::no_such_file_or_directory) {
        // The layer's arrays name the path the loop is found on (data.dir/layerL/headH/k1.npy).
        const std::string path = data.kind == DataKind::trace ? data.arrays_dir() + "/k1.npy" : data.dir;
        throw Error("data.dir: " + printable(path) + ": " + dir_error.message());
    }
    require(is_dir, "data.dir = '" + printable(data.dir) + "': the directory does not exist");
    if (data.kind == DataKind::trace) {
        const std::filesystem::path k1 = data.arrays_dir() + "/k1.npy";
        std::error_code error;  // a symlink loop, a directory that cannot be searched: the path and why
        const bool exists = std::filesystem::exists(k1, error);
        require(!error, "data.dir: " + printable(k1.string()) + ": " + error.message());
        require(exists,
                "data.layer = " + std::to_string(data.layer) + ", data.head = " + std::to_string(data.head) + ": " +
                    k1.string() + " does not exist (only a 2-simplicial layer's heads hold q, k1, k2, v1, v2)");
    }
    Fnv1a hash;
    data.tokens = std::numeric_limits<std::size_t>::max();
    data.largest_array = 0;
    for (const char* name : kNpyNames) {
        const std::string path = data.arrays_dir() + "/" + name + ".npy";
        const NpyArray array = read_npy(path);
        require(array.shape.size() == 2 || array.shape.size() == 3, path + ": expected [n, d] or [h, n, d]");
        data.tokens = std::min(data.tokens, array.shape[array.shape.size() - 2]);
        data.largest_array = std::max(data.largest_array, array.size());
        // The code npy's own enum gave (0 float32, 1 float64), so digests and point keys stay.
        const int dtype_code = array.dtype == Dtype::f32 ? 0 : 1;
        hash.mix(&dtype_code, sizeof dtype_code);
        hash.mix(array.shape.data(), array.shape.size() * sizeof(std::size_t));
        hash.mix(array.data.data(), array.data.size());
    }
    data.digest = hash.hex();
}

namespace {

// The tokens as read or drawn, before the data's mean shifts.
TokenData read_or_drawn(const DataSpec& data, std::size_t heads, std::size_t tokens, std::size_t d,
                        std::uint64_t seed) {
    if (data.reads_files())
        return {load(data, kNpyNames[0], heads, tokens, d), load(data, kNpyNames[1], heads, tokens, d),
                load(data, kNpyNames[2], heads, tokens, d), load(data, kNpyNames[3], heads, tokens, d),
                load(data, kNpyNames[4], heads, tokens, d)};
    Rng rng(seed);
    TokenData out;
    out.q = gaussian(heads, tokens, d, rng);
    if (data.kind == DataKind::sparse) {
        out.k1 = sparse(heads, tokens, d, data, rng);
        out.k2 = sparse(heads, tokens, d, data, rng);
        out.v1 = sparse(heads, tokens, d, data, rng);
        out.v2 = sparse(heads, tokens, d, data, rng);
        return out;
    }
    if (data.kind == DataKind::clustered) {
        out.k1 = clustered(heads, tokens, d, data, rng);
        out.k2 = clustered(heads, tokens, d, data, rng);
    } else {
        out.k1 = gaussian(heads, tokens, d, rng);
        out.k2 = gaussian(heads, tokens, d, rng);
    }
    out.v1 = gaussian(heads, tokens, d, rng);
    out.v2 = gaussian(heads, tokens, d, rng);
    return out;
}

}  // namespace

TokenData make_token_data(const DataSpec& data, std::size_t heads, std::size_t tokens, std::size_t d,
                          std::uint64_t seed) {
    TokenData out = read_or_drawn(data, heads, tokens, d, seed);
    if (!data.reads_files()) {
        out.k2 += data.k2_mean;
        out.v2 += data.v2_mean;
    }
    return out;
}

TokenData point_tokens(const StudyPoint& point, std::size_t tokens) {
    TokenData data = make_token_data(point.data, point.heads, tokens, point.d, point.seed);
    const std::size_t kv = point.shape().kv_heads;
    if (kv == point.heads) return data;
    for (Heads<double>* x : {&data.k1, &data.k2, &data.v1, &data.v2})
        *x = Heads<double>(xt::view(*x, xt::range(0, kv), xt::all(), xt::all()));
    return data;
}

void gather(const Heads<double>& x, std::size_t first, std::size_t count, std::vector<float>& out) {
    const std::size_t heads = x.shape(0), n = x.shape(1), d = x.shape(2);
    out.resize(count * heads * d);
    for (std::size_t r = 0; r < count; ++r)
        for (std::size_t h = 0; h < heads; ++h)
            for (std::size_t l = 0; l < d; ++l)
                out[(r * heads + h) * d + l] = static_cast<float>(x.data()[(h * n + first + r) * d + l]);
}

}  // namespace trikv
