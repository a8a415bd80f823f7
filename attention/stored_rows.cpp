#include "attention/stored_rows.hpp"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>

#include "framework/simd.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Same scheme as softmax.cpp: the loops are written to auto-vectorise and the dispatched
// versions are compiled for AVX-512, AVX2+FMA and baseline x86-64, chosen at load time; the
// `portable` versions are the very same loops compiled once for the baseline target. Half
// precision additionally uses F16C (vcvtph2ps / vcvtps2ph) when the CPU has it. Every loop is
// exact or a single rounding per operation with no multiply-add (GCC contracts a·b + c into
// an FMA in the FMA-capable clones), so all versions agree bit for bit.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TRIKV_NO_CLONES)
#define TRIKV_HAVE_F16C_PATH 1  // GCC: clang 14's __builtin_cpu_supports knows no "f16c"
#endif

namespace trikv {
namespace {

inline void encode_loop(const float* in, bf16* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = to_bf16(in[i]);
}
inline void decode_loop(const bf16* in, float* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = to_float(in[i]);
}
inline void encode_loop(const float* in, fp16* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = to_fp16(in[i]);
}
inline void decode_loop(const fp16* in, float* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = to_float(in[i]);
}

// scale = max|x| / 127; q = round(x · 127 / max), ties to even, in [-127, 127].
inline float encode_loop(const float* in, std::int8_t* out, std::size_t n) {
    // max |x| on the bit patterns: for |x| they order like the values, inf and NaN above all
    // finite ones, and an integer max reduction vectorises without fast-math.
    std::uint32_t top_bits = 0;
    for (std::size_t i = 0; i < n; ++i) top_bits = std::max(top_bits, std::bit_cast<std::uint32_t>(in[i]) & 0x7fffffffu);
    if (top_bits >= 0x7f800000u || top_bits == 0) {
        std::fill_n(out, n, std::int8_t(0));
        return top_bits ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
    }
    const float top = std::bit_cast<float>(top_bits);
    // The product is rounded to float, then to an integer (nearbyint: ties to even): no
    // multiply-add the compiler could contract into an FMA, so every clone rounds alike.
    const float inverse = 127.0f / top;
    for (std::size_t i = 0; i < n; ++i) {
        const float q = std::clamp(std::nearbyint(in[i] * inverse), -127.0f, 127.0f);
        out[i] = static_cast<std::int8_t>(static_cast<int>(q));
    }
    return top / 127.0f;
}
inline void decode_loop(const std::int8_t* in, const float* scales, std::size_t rows, std::size_t dim, float* out) {
    for (std::size_t r = 0; r < rows; ++r) {
        const float scale = scales[r];
        const std::int8_t* q = in + r * dim;
        float* x = out + r * dim;
        for (std::size_t l = 0; l < dim; ++l) x[l] = static_cast<float>(q[l]) * scale;
    }
}

#ifdef TRIKV_HAVE_F16C_PATH
__attribute__((target("avx,f16c"))) void encode_f16c(const float* in, fp16* out, std::size_t n) {
    constexpr int rounding = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), rounding));
    for (; i < n; ++i) out[i] = {static_cast<std::uint16_t>(_cvtss_sh(in[i], rounding))};
}
__attribute__((target("avx,f16c"))) void decode_f16c(const fp16* in, float* out, std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
    for (; i < n; ++i) out[i] = _cvtsh_ss(in[i].bits);
}
bool has_f16c() {
    static const bool yes = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
    return yes;
}
#endif

}  // namespace

namespace portable {
void encode(const float* in, bf16* out, std::size_t n) { encode_loop(in, out, n); }
void encode(const float* in, fp16* out, std::size_t n) { encode_loop(in, out, n); }
float encode(const float* in, std::int8_t* out, std::size_t n) { return encode_loop(in, out, n); }
void decode(const bf16* in, float* out, std::size_t n) { decode_loop(in, out, n); }
void decode(const fp16* in, float* out, std::size_t n) { decode_loop(in, out, n); }
void decode(const std::int8_t* in, const float* scales, std::size_t rows, std::size_t dim, float* out) {
    decode_loop(in, scales, rows, dim, out);
}
}  // namespace portable

TRIKV_SIMD_CLONES void encode(const float* in, bf16* out, std::size_t n) { encode_loop(in, out, n); }
TRIKV_SIMD_CLONES float encode(const float* in, std::int8_t* out, std::size_t n) { return encode_loop(in, out, n); }
TRIKV_SIMD_CLONES void decode(const bf16* in, float* out, std::size_t n) { decode_loop(in, out, n); }
TRIKV_SIMD_CLONES void decode(const std::int8_t* in, const float* scales, std::size_t rows, std::size_t dim,
                              float* out) {
    decode_loop(in, scales, rows, dim, out);
}

void encode(const float* in, fp16* out, std::size_t n) {
#ifdef TRIKV_HAVE_F16C_PATH
    if (has_f16c()) return encode_f16c(in, out, n);
#endif
    encode_loop(in, out, n);
}
void decode(const fp16* in, float* out, std::size_t n) {
#ifdef TRIKV_HAVE_F16C_PATH
    if (has_f16c()) return decode_f16c(in, out, n);
#endif
    decode_loop(in, out, n);
}

}  // namespace trikv
