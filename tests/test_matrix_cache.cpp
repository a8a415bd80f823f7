// matrix (caches/matrix_cache.cpp): the standard-attention baseline behind the Cache
// interface. Against reference::matrix_decode over each token's (k1, v1) in float64, for
// single and block steps, and bytes() = 2 streams of whole 256-row chunks per head.
#include <catch2/catch.hpp>

#include "attention/reference.hpp"
#include "caches/registry.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

TEST_CASE("matrix cache: standard attention over (k1, v1), single and block steps", "[caches][matrix]") {
    const std::size_t h = 2, d = 8, width = h * d, tokens = 300;
    const double scale = 1.0 / std::sqrt(double(d));
    Rng rng(77);
    const Matrix<float> k1 = random_matrix<float>(rng, tokens, width), k2 = random_matrix<float>(rng, tokens, width),
                        v1 = random_matrix<float>(rng, tokens, width), v2 = random_matrix<float>(rng, tokens, width),
                        q = random_matrix<float>(rng, tokens, width);
    const std::unique_ptr<Cache> cache = make_cache("matrix", {h, d, scale});
    CHECK(find_cache_type("matrix").attention == AttentionKind::matrix);
    // The reference for query r after `n` tokens, head by head.
    const auto want = [&](std::size_t r, std::size_t n) {
        std::vector<float> out(width);
        for (std::size_t head = 0; head < h; ++head) {
            Matrix<double> keys = xt::zeros<double>({n, d}), values = xt::zeros<double>({n, d});
            Vector<double> query = xt::zeros<double>({d});
            for (std::size_t t = 0; t < n; ++t)
                for (std::size_t l = 0; l < d; ++l) {
                    keys(t, l) = k1(t, head * d + l);
                    values(t, l) = v1(t, head * d + l);
                }
            for (std::size_t l = 0; l < d; ++l) query(l) = q(r, head * d + l);
            const Vector<double> o = reference::matrix_decode(query, keys, values, n, scale);
            for (std::size_t l = 0; l < d; ++l) out[head * d + l] = static_cast<float>(o(l));
        }
        return out;
    };
    std::size_t n = 0;
    for (std::size_t block : {1, 1, 7, 100, 191}) {  // crosses the 256-row chunk
        cache->append(block, k1.data() + n * width, k2.data() + n * width, v1.data() + n * width,
                            v2.data() + n * width);
        std::vector<float> got(block * width);
        cache->attend(block, q.data() + n * width, got.data());
        for (std::size_t r = 0; r < block; ++r) {
            const std::vector<float> got_r(got.begin() + r * width, got.begin() + (r + 1) * width);
            INFO("tokens " << n + block << ", query " << r);
            CHECK(relative_l2(got_r, want(n + r, n + block)) <= 1e-5);
        }
        n += block;
    }
    CHECK(cache->size() == tokens);
    CHECK(cache->bytes() == 2 * 2 * 256 * d * sizeof(float) * h);  // two chunks per stream
    CHECK(cache->cost().resident_bytes == double(cache->bytes()));
}
