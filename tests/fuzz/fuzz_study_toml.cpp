// libFuzzer target: any text is a valid study (which then expands) or a trikv::Error naming
// the problem; never a crash.
#include <cstdint>
#include <string>

#include "framework/error.hpp"
#include "studies/spec/study_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        trikv::StudySpec spec = trikv::parse_study(text, "fuzz.toml");
        // Keep expansion bounded: the fuzzer may declare huge sweeps, which are valid input.
        if (spec.caches.size() * spec.n.size() * spec.d.size() * spec.heads.size() < 10000) trikv::validate_study(spec);
    } catch (const trikv::Error&) {
    }
    return 0;
}
