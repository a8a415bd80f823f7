#include "attention/softmax.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>

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

namespace {

// exp(x) for x ≤ 0 (all callers subtract the running max first): Cody–Waite range
// reduction x = n·ln2 + r, |r| ≤ ln2/2, then Cephes' degree-6 polynomial; 2^n built in the
// exponent bits. Underflows to exactly 0 below −87 through an integer mask on those bits, not
// a select: GCC then vectorises the loop for AVX2 as well as AVX-512 (a select compiled to a
// branch in the AVX2 clone, leaving it scalar).
inline float exp_nonpositive(float x) {
    const std::int32_t keep = -static_cast<std::int32_t>(x >= -87.0f);  // all ones, or 0
    x = x < -87.0f ? -87.0f : x;
    constexpr float round_magic = 0x1.8p23f;  // adding and subtracting rounds to an integer
    const float n = (x * 1.44269504088896341f + round_magic) - round_magic;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const std::int32_t exponent = ((static_cast<std::int32_t>(n) + 127) << 23) & keep;
    return p * std::bit_cast<float>(exponent);
}

}  // namespace

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
