// Pair-tile kernels (attention/pair_tile_kernel.hpp) for AVX-512: 16 floats a vector, a panel is one.
#if defined(__x86_64__) && defined(__GNUC__)
#if !defined(__clang__)
// GCC 12 warns that the _mm512_undefined_ps() inside its own AVX-512 intrinsics "may be used
// uninitialized": a false positive in its headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include "attention/exp_approx.hpp"
#include "attention/pair_tile_kernel.hpp"
#include "framework/storage.hpp"
#include "framework/target_region.hpp"

// Everything the loops include comes before the region: only the code below is compiled for
// the level (an inline library function compiled inside it could be the copy the linker keeps).

TRIKV_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")
#include "attention/lanes_avx512.hpp"
#include "attention/pair_tile_loops.hpp"

namespace trikv::pair_tile {
namespace {

// Micro-tile: 32 rows (two panels) × 12 outputs in 24 zmm accumulators, + 2 operands + 1
// broadcast ≤ 32 registers: each broadcast feeds two FMAs and each load of A twelve, where
// AVX2's 16 × 6 fed two and six.
struct Avx512Tile {
    static constexpr std::size_t kPanels = 2, kOutputs = 12;
};

}  // namespace

Kernels avx512_kernels() { return kernels_of<lanes::Avx512Lanes, Avx512Tile>(); }

}  // namespace trikv::pair_tile
TRIKV_TARGET_REGION_END
#endif
