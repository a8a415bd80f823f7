#include "framework/isa.hpp"

#include <atomic>
#include <cstdlib>

#include "framework/error.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

namespace trikv {
namespace {

constexpr Isa kLevels[] = {Isa::portable, Isa::avx2, Isa::avx512, Isa::avx512bf16};

#if defined(__x86_64__) && defined(__GNUC__)
// CPUID bits clang 14's __builtin_cpu_supports has no name for: F16C is leaf 1, ECX bit 29;
// AVX512_BF16 is leaf 7, sub-leaf 1, EAX bit 5.
bool cpu_has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && ((ecx >> 29) & 1u);
}
bool cpu_has_avx512_bf16() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && ((eax >> 5) & 1u);
}

Isa probe() {
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    if (!avx2) return Isa::portable;
    // __builtin_cpu_supports reports AVX-512 only when the OS saves the zmm state.
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    if (!avx512) return Isa::avx2;
    return cpu_has_avx512_bf16() ? Isa::avx512bf16 : Isa::avx512;
}
#else
Isa probe() { return Isa::portable; }
#endif

Isa from_environment() {
    const char* value = std::getenv("TRIKV_ISA");
    if (!value || !*value) return detected_isa();
    const Isa wanted = parse_isa(value);
    require(wanted <= detected_isa(), std::string("TRIKV_ISA: this CPU does not run '") + value + "' (best: " +
                                          isa_name(detected_isa()) + ")");
    return wanted;
}

constexpr int kUnset = -1;
std::atomic<int> overridden{kUnset};  // the innermost live IsaOverride's level

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::portable: return "portable";
        case Isa::avx2: return "avx2";
        case Isa::avx512: return "avx512";
        case Isa::avx512bf16: return "avx512bf16";
    }
    return "?";
}

Isa parse_isa(const std::string& name) {
    for (Isa isa : kLevels)
        if (name == isa_name(isa)) return isa;
    throw Error("TRIKV_ISA: unknown level '" + printable(name) + "' (avx512bf16|avx512|avx2|portable)");
}

Isa detected_isa() {
    static const Isa detected = probe();
    return detected;
}

std::vector<Isa> runnable_isas() {
    std::vector<Isa> out;
    for (Isa isa : kLevels)
        if (isa <= detected_isa()) out.push_back(isa);
    return out;
}

Isa active_isa() {
    const int forced = overridden.load(std::memory_order_relaxed);
    if (forced != kUnset) return static_cast<Isa>(forced);
    static const Isa chosen = from_environment();
    return chosen;
}

IsaOverride::IsaOverride(Isa isa) : previous_(active_isa()) {
    require(isa <= detected_isa(), std::string("IsaOverride: this CPU does not run ") + isa_name(isa));
    overridden.store(static_cast<int>(isa));
}
IsaOverride::~IsaOverride() { overridden.store(static_cast<int>(previous_)); }

}  // namespace trikv
