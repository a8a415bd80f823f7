// Stream-tile kernels for AVX2 with FMA and F16C: 8 floats a vector.
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "attention/stream_tile_kernels.hpp"
#include "framework/storage.hpp"
#include "framework/target_region.hpp"

// Everything the loops include comes before the region: only the code below is compiled for
// the level (an inline library function compiled inside it could be the copy the linker keeps).

TRIKV_TARGET_REGION_BEGIN("avx2,fma,f16c")
#include "attention/lanes_avx2.hpp"
#include "attention/stream_tile_loops.hpp"

namespace trikv::stream_tile {

TRIKV_STREAM_TILE_LEVEL(avx2_kernels, lanes::Avx2Lanes)

}  // namespace trikv::stream_tile
TRIKV_TARGET_REGION_END
#endif
