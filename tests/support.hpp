#pragma once
// Helpers shared by the test files: seeded random tensors, error measures (docs/math.md §8: relative
// L2 error against a float64 result), float↔double conversion and per-token slicing.
// Everything here is deterministic: data comes from trikv::Rng with an explicit seed.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "framework/rng.hpp"
#include "framework/tensor.hpp"

namespace trikv::test {

// Cache types test cases register to fail on purpose (a make() or attend that throws, a NaN
// output, a placeholder that builds nothing). One process runs many test cases, so a test that
// walks every registered type skips these; test-naive, a working type from outside, stays.
inline bool made_to_fail(const std::string& type_name) {
    for (const char* prefix : {"test-registry", "test-foreign-", "test-nan-", "test-bad-", "test-half-reserving"})
        if (type_name.rfind(prefix, 0) == 0) return true;
    return false;
}

// An empty directory of its own under the system's temporary folder, per test name and process.
inline std::filesystem::path fresh_dir(const std::string& name) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("trikv-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// fresh_dir(name), removed with everything in it when the test ends, also when a REQUIRE fails.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& name) : path_(fresh_dir(name)) {}
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// n×d matrix of N(0, sigma²) entries.
template <Scalar T>
Matrix<T> random_matrix(Rng& rng, std::size_t n, std::size_t d, double sigma = 1.0) {
    Matrix<T> m = Matrix<T>::from_shape({n, d});
    for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(sigma * rng.normal());
    return m;
}

// h×n×d tensor of N(0, sigma²) entries.
template <Scalar T>
Heads<T> random_heads(Rng& rng, std::size_t h, std::size_t n, std::size_t d, double sigma = 1.0) {
    Heads<T> m = Heads<T>::from_shape({h, n, d});
    for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(sigma * rng.normal());
    return m;
}

// The five per-head inputs of tensor attention, [n, d] each.
template <Scalar T>
struct TensorInputs {
    Matrix<T> q, k1, k2, v1, v2;
};

template <Scalar T>
TensorInputs<T> random_tensor_inputs(Rng& rng, std::size_t n, std::size_t d, double sigma = 1.0) {
    TensorInputs<T> in;
    in.q = random_matrix<T>(rng, n, d, sigma);
    in.k1 = random_matrix<T>(rng, n, d, sigma);
    in.k2 = random_matrix<T>(rng, n, d, sigma);
    in.v1 = random_matrix<T>(rng, n, d, 1.0);
    in.v2 = random_matrix<T>(rng, n, d, 1.0);
    return in;
}

// Exact widening copy (every float is a double), so the reference sees the very same inputs.
template <class T, std::size_t N>
xt::xtensor<double, N> to_double(const xt::xtensor<T, N>& a) {
    xt::xtensor<double, N> out = xt::xtensor<double, N>::from_shape(a.shape());
    for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = static_cast<double>(a.data()[i]);
    return out;
}

// Head `head` of an [h, n, d] tensor as an [n, d] matrix.
template <class T>
Matrix<T> head_of(const Heads<T>& a, std::size_t head) {
    const std::size_t n = a.shape(1), d = a.shape(2);
    Matrix<T> out = Matrix<T>::from_shape({n, d});
    for (std::size_t i = 0; i < n * d; ++i) out.data()[i] = a.data()[head * n * d + i];
    return out;
}

// ‖got − want‖₂ / ‖want‖₂ over all elements, computed in double (docs/math.md §8). Both arguments are
// contiguous containers of equal size. If want is exactly zero, returns the absolute norm.
template <class A, class B>
double relative_l2(const A& got, const B& want) {
    double diff = 0, ref = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const double w = static_cast<double>(want.data()[i]);
        const double e = static_cast<double>(got.data()[i]) - w;
        diff += e * e;
        ref += w * w;
    }
    return ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff);
}

template <class A, class B>
double max_abs_diff(const A& got, const B& want) {
    double worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(got.data()[i]) -
                                         static_cast<double>(want.data()[i])));
    return worst;
}

template <class A>
bool all_finite(const A& a) {
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!std::isfinite(static_cast<double>(a.data()[i]))) return false;
    return true;
}

// Tolerances in these tests were chosen from measured errors. Run the suite with
// TRIKV_REPORT_ERRORS=1 to print every measured error next to its tolerance (for re-tuning
// after a kernel change); otherwise this is silent.
inline void report_error(const std::string& label, double error, double tolerance) {
    static const bool enabled = std::getenv("TRIKV_REPORT_ERRORS") != nullptr;
    if (enabled) std::fprintf(stderr, "[error] %-60s %.3e (tolerance %.1e)\n", label.c_str(), error, tolerance);
}

// Same switch, for measured quantities that have no tolerance (e.g. scratch bytes).
inline void report_value(const std::string& label, double value) {
    static const bool enabled = std::getenv("TRIKV_REPORT_ERRORS") != nullptr;
    if (enabled) std::fprintf(stderr, "[value] %-60s %.6g\n", label.c_str(), value);
}

// Token t of an [h, n, d] tensor as the [h, d] floats Cache::append and attend take.
template <class T>
std::vector<float> token_of(const Heads<T>& x, std::size_t t) {
    const std::size_t heads = x.shape(0), d = x.shape(2);
    std::vector<float> out(heads * d);
    for (std::size_t h = 0; h < heads; ++h)
        for (std::size_t l = 0; l < d; ++l) out[h * d + l] = static_cast<float>(x(h, t, l));
    return out;
}

// Appends the next tokens of `data` (k1, k2, v1, v2 as [h, n, d], e.g. a TokenData) until
// `cache` holds `tokens`.
template <class CacheT, class Data>
void feed(CacheT& cache, const Data& data, std::size_t tokens) {
    while (cache.size() < tokens) {
        const std::size_t t = cache.size();
        const std::vector<float> k1 = token_of(data.k1, t), k2 = token_of(data.k2, t), v1 = token_of(data.v1, t),
                                 v2 = token_of(data.v2, t);
        cache.append(1, k1.data(), k2.data(), v1.data(), v2.data());
    }
}

// Row t of an [n, d] matrix as a vector.
template <class T>
Vector<T> row_of(const Matrix<T>& m, std::size_t t) {
    const std::size_t d = m.shape(1);
    Vector<T> out = Vector<T>::from_shape({d});
    for (std::size_t l = 0; l < d; ++l) out(l) = m(t, l);
    return out;
}

}  // namespace trikv::test
