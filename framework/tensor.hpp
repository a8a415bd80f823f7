#pragma once
// Tensor aliases used across trikv. Per-head data is [n, d]; multi-head data is [h, n, d]
// (C order). Kernels take raw pointers into these, never lazy xtensor expressions.
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

namespace trikv {

template <class T> using Vector = xt::xtensor<T, 1>;
template <class T> using Matrix = xt::xtensor<T, 2>;  // [n, d]
template <class T> using Heads = xt::xtensor<T, 3>;   // [h, n, d]

// The two scalar types trikv computes in.
template <class T> concept Scalar = std::same_as<T, float> || std::same_as<T, double>;

}  // namespace trikv
