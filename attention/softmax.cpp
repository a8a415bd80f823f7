#include "attention/softmax.hpp"

#include <algorithm>

#include "attention/exp_approx.hpp"
#include "framework/simd.hpp"

// The loops below are written to auto-vectorise; target_clones compiles each for AVX-512,
// AVX2+FMA and baseline x86-64 and picks one at load time, so a portable build is fast on
// these machines too.

namespace trikv {

template <class T>
void SoftmaxPartial<T>::merge(T other_max, T other_norm, const T* other_acc) {
    if (other_norm == 0) return;
    const std::size_t dim = acc.size();
    if (empty()) {
        max = other_max;
        norm = other_norm;
        std::copy(other_acc, other_acc + dim, acc.data());
        return;
    }
    const T top = std::max(max, other_max);
    const T mine = std::exp(max - top);
    const T theirs = std::exp(other_max - top);
    for (std::size_t l = 0; l < dim; ++l) acc[l] = acc[l] * mine + other_acc[l] * theirs;
    norm = norm * mine + other_norm * theirs;
    max = top;
}

template <class T>
void SoftmaxPartial<T>::finish(T* out) const {
    const T inverse = T(1) / norm;
    for (std::size_t l = 0; l < acc.size(); ++l) out[l] = acc[l] * inverse;
}

template struct SoftmaxPartial<float>;
template struct SoftmaxPartial<double>;


TRIKV_SIMD_CLONES float max_of(const float* values, std::size_t n) {
    float top = values[0];
#pragma omp simd reduction(max : top)
    for (std::size_t i = 0; i < n; ++i) top = values[i] > top ? values[i] : top;
    return top;
}

double max_of(const double* values, std::size_t n) { return *std::max_element(values, values + n); }

TRIKV_SIMD_CLONES float exp_shifted_sum(float* values, std::size_t n, float shift) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (std::size_t i = 0; i < n; ++i) {
        const float e = exp_nonpositive(values[i] - shift);
        values[i] = e;
        sum += e;
    }
    return sum;
}

double exp_shifted_sum(double* values, std::size_t n, double shift) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        values[i] = std::exp(values[i] - shift);
        sum += values[i];
    }
    return sum;
}

}  // namespace trikv
