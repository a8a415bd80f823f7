// A downstream program: makes a "factor" cache through the registry, appends a few tokens,
// attends, and checks the output against the float64 reference. Exit status 0 if they agree
// to float32 tolerance, 1 otherwise. Headers come from <prefix>/include/trikv/<layer>/.
#include <attention/reference.hpp>
#include <caches/registry.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
    const std::size_t heads = 1, dim = 4, tokens = 5;
    const double scale = 0.5;
    const std::unique_ptr<trikv::Cache> cache = trikv::make_cache("factor", {heads, dim, scale});

    // Deterministic, non-trivial inputs.
    auto value = [](std::size_t stream, std::size_t t, std::size_t l) {
        return static_cast<float>(std::sin(1.0 + 0.7 * double(stream) + 1.3 * double(t) + 0.37 * double(l)));
    };
    trikv::Matrix<double> k1 = xt::zeros<double>({tokens, dim}), k2 = k1, v1 = k1, v2 = k1;
    std::vector<float> row[4];
    for (std::size_t t = 0; t < tokens; ++t) {
        for (std::size_t s = 0; s < 4; ++s) {
            row[s].resize(dim);
            for (std::size_t l = 0; l < dim; ++l) row[s][l] = value(s, t, l);
        }
        cache->append(1, row[0].data(), row[1].data(), row[2].data(), row[3].data());
        for (std::size_t l = 0; l < dim; ++l) {
            k1(t, l) = row[0][l], k2(t, l) = row[1][l], v1(t, l) = row[2][l], v2(t, l) = row[3][l];
        }
    }

    std::vector<float> q(dim), out(dim);
    trikv::Vector<double> query = xt::zeros<double>({dim});
    for (std::size_t l = 0; l < dim; ++l) query(l) = q[l] = value(4, 0, l);
    cache->attend(1, q.data(), out.data());
    const trikv::Vector<double> want = trikv::reference::tensor_decode(query, k1, k2, v1, v2, tokens, scale);

    // Relative L2 error; float32 storage and kernels: 1e-5 as in the library's own tests.
    double diff = 0, norm = 0;
    for (std::size_t l = 0; l < dim; ++l) {
        diff += (out[l] - want(l)) * (out[l] - want(l));
        norm += want(l) * want(l);
    }
    const double error = std::sqrt(diff / norm);
    std::printf("consumer: %s after %zu tokens: relative L2 error %.3g against the reference\n",
                cache->spec().c_str(), cache->size(), error);
    return error <= 1e-5 && cache->size() == tokens ? 0 : 1;
}
