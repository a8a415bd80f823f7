// Portable stream-tile kernels (plain C++, one float at a time; the compiler may vectorise
// them for the baseline target) and the choice of a level's set.
#include "attention/stream_tile_kernels.hpp"

#include <cstdint>

#include "attention/stream_tile_loops.hpp"

namespace trikv {
namespace stream_tile {
namespace {

struct ScalarLanes {
    using V = float;
    static constexpr std::size_t kLanes = 1;
    static V zero() { return 0.0f; }
    static V broadcast(float x) { return x; }
    static V fma(V a, V b, V c) { return a * b + c; }
    static V add(V a, V b) { return a + b; }
    static float sum(V v) { return v; }
    static V sum_each(const V* v) { return v[0]; }
    template <class S>
    static V load(const S* p) { return element(p); }
    static void store(float* p, V v) { *p = v; }
};

}  // namespace

TRIKV_STREAM_TILE_LEVEL(portable_kernels, ScalarLanes)

}  // namespace stream_tile

template <class S>
StreamTileKernels<S> stream_tile_kernels(Isa isa) {
#if defined(__x86_64__) && defined(__GNUC__)
    switch (isa) {
        case Isa::avx512bf16:
        case Isa::avx512: return stream_tile::avx512_kernels<S>();
        case Isa::avx2: return stream_tile::avx2_kernels<S>();
        case Isa::portable: break;
    }
#else
    (void)isa;  // detected_isa() is portable here
#endif
    return stream_tile::portable_kernels<S>();
}

#define TRIKV_INSTANTIATE(S) template StreamTileKernels<S> stream_tile_kernels<S>(Isa);
TRIKV_FOR_EACH_STREAM_STORAGE(TRIKV_INSTANTIATE)
#undef TRIKV_INSTANTIATE

}  // namespace trikv
