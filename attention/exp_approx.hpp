#pragma once
// The float exp every softmax kernel uses, inline so that each caller's loop vectorises at its
// own target's width (softmax.cpp's target_clones, pair_tile_kernel.cpp's AVX2 functions):
// always_inline, or a clone would call one out-of-line baseline copy.
#include <bit>
#include <cstdint>

namespace trikv {

// exp(x) for x ≤ 0 (all callers subtract the running max first): Cody–Waite range
// reduction x = n·ln2 + r, |r| ≤ ln2/2, then Cephes' degree-6 polynomial; 2^n built in the
// exponent bits. Underflows to exactly 0 below −87 through an integer mask on those bits, not
// a select: GCC then vectorises the loop for AVX2 as well as AVX-512 (a select compiled to a
// branch in the AVX2 clone, leaving it scalar).
[[gnu::always_inline]] inline float exp_nonpositive(float x) {
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

}  // namespace trikv
