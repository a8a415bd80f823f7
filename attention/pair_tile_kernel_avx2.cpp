// Pair-tile kernels (attention/pair_tile_kernel.hpp) for AVX2 with FMA: 8 floats a vector, a panel is two.
#if defined(__x86_64__) && defined(__GNUC__)
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

TRIKV_TARGET_REGION_BEGIN("avx2,fma,f16c")
#include "attention/lanes_avx2.hpp"
#include "attention/pair_tile_loops.hpp"

namespace trikv::pair_tile {
namespace {

// Micro-tile: 16 rows × 6 outputs in 12 ymm accumulators, + 2 operands + 1 broadcast ≤ 16
// registers.
struct Avx2Tile {
    static constexpr std::size_t kPanels = 1, kOutputs = 6;
};

}  // namespace

Kernels avx2_kernels() { return kernels_of<lanes::Avx2Lanes, Avx2Tile>(); }

}  // namespace trikv::pair_tile
TRIKV_TARGET_REGION_END
#endif
