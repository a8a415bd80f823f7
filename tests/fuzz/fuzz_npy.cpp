// libFuzzer target: the .npy reader must turn any byte string into an array or a trikv::Error,
// never a crash, a hang or a huge allocation (ASan/UBSan watch).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "framework/error.hpp"
#include "framework/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/trikv-fuzz-npy-" + std::to_string(::getpid()) + ".npy";
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) return 0;
    std::fwrite(data, 1, size, file);
    std::fclose(file);
    try {
        const trikv::NpyArray array = trikv::read_npy(path);
        if (array.data.size() != array.size() * array.itemsize()) __builtin_trap();  // reader broke its contract
        (void)array.to_xarray<double>();
    } catch (const trikv::Error&) {
    }
    // Removed after every input: libFuzzer ends the process at -max_total_time between inputs,
    // and the file was left in /tmp.
    std::remove(path.c_str());
    return 0;
}
