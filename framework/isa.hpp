#pragma once
// The instruction-set level trikv's hand-written kernels run at, chosen once per process:
// the best this CPU supports, or the lower level the environment variable TRIKV_ISA names
// (avx512bf16 | avx512 | avx2 | portable), read on first use. Kernels ask active_isa() at
// their entry point (once per attend, not per tile) and run the matching template or
// per-ISA file, so every path can be run and tested on one machine:
//
//   avx512bf16  AVX-512 F/BW/VL/DQ + AVX512_BF16 (VDPBF16PS), e.g. Zen 4, Sapphire Rapids
//   avx512      AVX-512 F/BW/VL/DQ, FMA, F16C
//   avx2        AVX2, FMA, F16C
//   portable    plain C++ for the baseline target (any x86-64, other architectures, and
//               the instrumented builds' fallback)
//
// Levels are ordered: each includes the ones below it. Loops that GCC auto-vectorises
// through target_clones (framework/simd.hpp) are chosen by the loader instead and do not
// follow this setting.
#include <string>
#include <vector>

namespace trikv {

enum class Isa { portable = 0, avx2 = 1, avx512 = 2, avx512bf16 = 3 };

const char* isa_name(Isa isa);
// The level called `name`; throws trikv::Error naming TRIKV_ISA and the value otherwise.
Isa parse_isa(const std::string& name);

// The best level this CPU (and OS: AVX-512 state enabled) runs.
Isa detected_isa();
// Every level this CPU runs, portable first.
std::vector<Isa> runnable_isas();

// The level kernels use now: TRIKV_ISA if set (an unknown name, or a level this CPU does not
// run, throws trikv::Error on first use), else detected_isa(); or the innermost live
// IsaOverride's.
Isa active_isa();

// While alive, active_isa() returns `isa` (which the CPU must run): how tests walk every
// path in one process. Not for concurrent use with kernels that must keep their level.
class IsaOverride {
public:
    explicit IsaOverride(Isa isa);
    ~IsaOverride();
    IsaOverride(const IsaOverride&) = delete;
    IsaOverride& operator=(const IsaOverride&) = delete;

private:
    Isa previous_;
};

}  // namespace trikv
