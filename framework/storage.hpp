#pragma once
// Storage formats for cached rows (the dtype of a cache): float32, bfloat16, IEEE half and
// int8 with one float scale per row. Kernels always compute in float: rows are decoded
// before use (attention/stored_rows.hpp), so a reduced format changes only what is stored,
// and the error it adds is the rounding of the stored values.
//
// The scalar conversions here are the portable definitions (plain integer and float
// arithmetic, any target, any compiler); the bulk converters in attention/stored_rows.hpp
// are dispatched to SIMD versions that must agree with them bit for bit (tested).
//
//   bf16  the top 16 bits of the float, rounded to nearest even; NaN stays NaN (quieted),
//         ±inf and signed zeros are kept, subnormals round like any other value.
//         Unit roundoff 2^-8.
//   fp16  IEEE 754 binary16, round to nearest even; |x| ≥ 65520 overflows to ±inf, NaN stays
//         NaN (quieted, top payload bits kept), below 2^-14 subnormal. Unit roundoff 2^-11.
//   int8  symmetric per row: scale = max_l |x_l| / 127, stored as a float beside the row;
//         x_l ≈ scale · round(x_l / scale), |error| ≤ scale / 2 = max|x| / 254. A row of
//         zeros has scale 0; a row holding inf or NaN gets a NaN scale (decodes to NaN).
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "framework/dtype.hpp"

namespace trikv {

struct bf16 {
    std::uint16_t bits;
};
struct fp16 {
    std::uint16_t bits;
};
// int8 storage is std::int8_t, always with a per-row float scale.

// Calls f(S{}) with the storage scalar S of the dtype called `name` (one of dtype_names();
// anything else is f32) and returns its result: how a cache factory picks its template.
template <class F>
decltype(auto) with_dtype(const std::string& name, F&& f) {
    if (name == "bf16") return f(bf16{});
    if (name == "fp16") return f(fp16{});
    if (name == "int8") return f(std::int8_t{});
    return f(float{});
}

// The storage scalar of each dtype, and back.
template <class S> inline constexpr bool kIsStorage =
    std::is_same_v<S, float> || std::is_same_v<S, bf16> || std::is_same_v<S, fp16> || std::is_same_v<S, std::int8_t>;
template <class S> inline constexpr bool kRowScaled = std::is_same_v<S, std::int8_t>;  // a float scale per row

template <class S>
constexpr Dtype dtype_of() {
    static_assert(kIsStorage<S>, "not a storage scalar");
    if constexpr (std::is_same_v<S, float>) return Dtype::f32;
    else if constexpr (std::is_same_v<S, bf16>) return Dtype::bf16;
    else if constexpr (std::is_same_v<S, fp16>) return Dtype::fp16;
    else return Dtype::int8;
}

// Bytes one stored row of `dim` scalars takes, its scale included.
template <class S>
constexpr std::size_t stored_row_bytes(std::size_t dim) {
    return dim * sizeof(S) + (kRowScaled<S> ? sizeof(float) : 0);
}

// Relative rounding error bound of one stored value: |x̃ − x| ≤ u·|x| (float formats, in the
// normal range), or |x̃ − x| ≤ u·max_l |x_l| over the value's row (int8).
inline double unit_roundoff(Dtype dtype) {
    switch (dtype) {
        case Dtype::f32: return 0x1p-24;
        case Dtype::bf16: return 0x1p-8;
        case Dtype::fp16: return 0x1p-11;
        case Dtype::int8: return 1.0 / 254.0;
        case Dtype::f64: return 0x1p-53;
    }
    return 1.0;
}

// ---- bfloat16 ----------------------------------------------------------------------------

inline bf16 to_bf16(float x) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((u >> 16) | 0x0040u)};  // NaN: quiet
    // Round to nearest, ties to even: add 0x7fff plus the lowest kept bit, then truncate.
    // Carries run into the exponent as they should (up to inf for values above bf16's max).
    return {static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
}
inline float to_float(bf16 x) { return std::bit_cast<float>(static_cast<std::uint32_t>(x.bits) << 16); }

// ---- IEEE half ---------------------------------------------------------------------------
// Bit-exact with x86 F16C (vcvtps2ph with round-to-nearest-even, vcvtph2ps), as the tests
// check; after F. Giesen's float_to_half_fast3_rtne / half_to_float.

inline fp16 to_fp16(float x) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(x);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    u &= 0x7fffffffu;
    std::uint32_t h;
    if (u > 0x7f800000u) {
        h = 0x7e00u | ((u >> 13) & 0x03ffu);  // NaN: quiet, top payload bits kept
    } else if (u >= 0x47800000u) {
        h = 0x7c00u;  // ≥ 2^16 (and inf): inf
    } else if (u < 0x38800000u) {
        // Below 2^-14: a subnormal half or zero. Adding 0.5 aligns the 10 fraction bits at the
        // bottom of the float; the float addition rounds to nearest even.
        const float magic = std::bit_cast<float>(126u << 23);  // 0.5
        h = std::bit_cast<std::uint32_t>(std::bit_cast<float>(u) + magic) - (126u << 23);
    } else {
        // Normal: rebias the exponent and round the 13 dropped bits to nearest even; a carry
        // can reach the exponent and, from 65520 up, inf.
        const std::uint32_t odd = (u >> 13) & 1u;
        h = (u - (112u << 23) + 0x0fffu + odd) >> 13;
    }
    return {static_cast<std::uint16_t>(sign | h)};
}

inline float to_float(fp16 x) {
    const std::uint32_t sign = static_cast<std::uint32_t>(x.bits & 0x8000u) << 16;
    const std::uint32_t exponent = x.bits & 0x7c00u, fraction = x.bits & 0x03ffu;
    std::uint32_t u;
    if (exponent == 0x7c00u) {
        u = 0x7f800000u | (fraction << 13) | (fraction ? 0x00400000u : 0u);  // inf; NaN quieted
    } else if (exponent == 0) {
        // Zero or subnormal: fraction · 2^-24, exact in float.
        u = std::bit_cast<std::uint32_t>(static_cast<float>(fraction) * 0x1p-24f);
    } else {
        u = ((static_cast<std::uint32_t>(x.bits & 0x7fffu)) << 13) + (112u << 23);
    }
    return std::bit_cast<float>(sign | u);
}

// ---- int8 with a row scale ---------------------------------------------------------------

inline float to_float(std::int8_t q, float scale) { return static_cast<float>(q) * scale; }

}  // namespace trikv
