// The choice of a level's pair-tile kernels; the kernels themselves are written once over a
// vector type (attention/pair_tile_loops.hpp) and compiled per level in
// pair_tile_kernel_avx2.cpp and pair_tile_kernel_avx512.cpp. No target_clones, so no ifunc
// resolver (TSan builds run them as well).
#include "attention/pair_tile_kernel.hpp"

#include <string>

#include "framework/error.hpp"

namespace trikv::pair_tile {

bool available() { return active_isa() >= Isa::avx2; }

Kernels kernels(Isa isa) {
#if defined(__x86_64__) && defined(__GNUC__)
    switch (isa) {
        case Isa::avx512bf16:
        case Isa::avx512: return avx512_kernels();
        case Isa::avx2: return avx2_kernels();
        case Isa::portable: break;
    }
#endif
    throw Error(std::string("pair_tile::kernels: no register-tiled kernels at level ") + isa_name(isa));
}

}  // namespace trikv::pair_tile
