// The C++ side of python/benchmarks/attend_overhead.py: the median time of one
// cache->attend(1, q, out) after n tokens, for comparison with the same call from Python.
// Usage: trikv_attend_overhead SPEC N HEADS D CALLS
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "caches/registry.hpp"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s SPEC N HEADS D CALLS\n", argv[0]);
        return 2;
    }
    const std::string spec = argv[1];
    const std::size_t n = std::stoul(argv[2]), heads = std::stoul(argv[3]), d = std::stoul(argv[4]),
                      calls = std::stoul(argv[5]);
    auto cache = trikv::make_cache(spec, {heads, d, 1.0 / double(d)});
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> block(n * heads * d);
    for (float& x : block) x = normal(rng);
    cache->append(n, block.data(), block.data(), block.data(), block.data());
    std::vector<float> q(block.begin(), block.begin() + heads * d), out(heads * d);
    std::vector<double> micros(calls);
    for (double& m : micros) {
        const auto start = std::chrono::steady_clock::now();
        cache->attend(1, q.data(), out.data());
        m = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    }
    std::nth_element(micros.begin(), micros.begin() + calls / 2, micros.end());
    std::printf("%.3f\n", micros[calls / 2]);
}
