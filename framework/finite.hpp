#pragma once
// Attention results that overflowed. Inputs are checked finite on the way in, so a NaN or an
// infinity in a result means a score exceeded the compute type's range. Every entry point
// (`trikv attend`, trikv.attend, trikv.Cache.attend) refuses such a result with this message
// instead of handing back NaN.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

namespace trikv {

// Index of the first NaN or infinity among `count` values, or `count` if all are finite.
template <class T>
std::size_t first_non_finite(const T* values, std::size_t count) {
    return static_cast<std::size_t>(std::find_if(values, values + count, [](T x) { return !std::isfinite(x); }) - values);
}

// "<where> is NaN: the scores overflow float32; <advice>" (or "is infinite").
template <class T>
std::string overflow_message(std::string_view where, T value, std::string_view type, std::string_view advice) {
    return std::string(where) + " is " + (std::isnan(value) ? "NaN" : "infinite") + ": the scores overflow " +
           std::string(type) + "; " + std::string(advice);
}

}  // namespace trikv
