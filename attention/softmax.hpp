#pragma once
// Online (running-max) softmax: the numerically stable building block of every kernel.
// A partial result over some set of scores is (max m, normaliser l = Σ exp(s − m),
// accumulator a = Σ exp(s − m)·v); two partials merge by rescaling to the larger max, so
// work can be split over tiles and threads in any order without ever forming exp(s).
#include <cmath>
#include <cstddef>
#include <limits>

#include "framework/memory.hpp"

namespace trikv {

template <class T>
struct SoftmaxPartial {
    T max = -std::numeric_limits<T>::infinity();
    T norm = 0;
    Buffer<T> acc;  // d values

    SoftmaxPartial(std::size_t dim, MemoryMeter& meter) : acc(dim, meter) {
        for (std::size_t l = 0; l < dim; ++l) acc[l] = 0;
    }
    bool empty() const { return norm == 0; }

    // this ← this ⊕ (other_max, other_norm, other_acc); other_acc has acc.size() values.
    void merge(T other_max, T other_norm, const T* other_acc);
    void merge(const SoftmaxPartial& other) { merge(other.max, other.norm, other.acc.data()); }
    // out = acc / norm.
    void finish(T* out) const;
};

// Largest of n values (n ≥ 1).
float max_of(const float* values, std::size_t n);
double max_of(const double* values, std::size_t n);

// values[i] ← exp(values[i] − shift); returns their sum. The float version uses a
// vectorised polynomial exp (relative error < 2e-7); the double version uses std::exp.
float exp_shifted_sum(float* values, std::size_t n, float shift);
double exp_shifted_sum(double* values, std::size_t n, double shift);

}  // namespace trikv
