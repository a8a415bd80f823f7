// Stream-tile kernels for AVX-512 (F, BW, VL, DQ; FMA and F16C): 16 floats a vector.
#if defined(__x86_64__) && defined(__GNUC__)
#if !defined(__clang__)
// GCC 12 warns that the _mm512_undefined_ps() inside its own AVX-512 intrinsics (reduce,
// extract, even casts) "may be used uninitialized": a false positive in its headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
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

TRIKV_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")
#include "attention/lanes_avx512.hpp"
#include "attention/stream_tile_loops.hpp"

namespace trikv::stream_tile {

TRIKV_STREAM_TILE_LEVEL(avx512_kernels, lanes::Avx512Lanes)

}  // namespace trikv::stream_tile
TRIKV_TARGET_REGION_END
#endif
