// The data side of the plugin check in run_consumer.cmake:
//   plugin_data inputs DIR      writes q, k1, k2, v1, v2 .npy into DIR ([h = 2, n = 12, d = 8]
//                               float32, deterministic), for `trikv attend`;
//   plugin_data compare A B     exit 0 if the outputs A and B (.npy) agree to float32
//                               tolerance (relative L2 ≤ 1e-5, as the library's own tests), 1 if not.
#include <framework/npy.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include <xtensor/xarray.hpp>

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "inputs") == 0) {
        const std::size_t heads = 2, tokens = 12, dim = 8;
        const char* names[] = {"q", "k1", "k2", "v1", "v2"};
        for (std::size_t s = 0; s < 5; ++s) {
            xt::xarray<float> x = xt::zeros<float>({heads, tokens, dim});
            for (std::size_t i = 0; i < x.size(); ++i)
                x.data()[i] = static_cast<float>(std::sin(0.3 + 0.9 * double(s) + 0.61 * double(i)));
            trikv::write_npy(std::string(argv[2]) + "/" + names[s] + ".npy", trikv::make_npy(x));
        }
        return 0;
    }
    if (argc == 4 && std::strcmp(argv[1], "compare") == 0) {
        const xt::xarray<double> a = trikv::read_npy(argv[2]).to_xarray<double>();
        const xt::xarray<double> b = trikv::read_npy(argv[3]).to_xarray<double>();
        if (a.shape() != b.shape()) return 1;
        double diff = 0, norm = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            diff += (a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
            norm += b.data()[i] * b.data()[i];
        }
        const double error = std::sqrt(diff / norm);
        std::printf("plugin_data: %s against %s: relative L2 error %.3g\n", argv[2], argv[3], error);
        return error <= 1e-5 ? 0 : 1;
    }
    std::fprintf(stderr, "usage: plugin_data inputs DIR | plugin_data compare A.npy B.npy\n");
    return 2;
}
