#pragma once
// Reading and writing NumPy .npy files holding float32 or float64 arrays in C order.
// The reader validates every header field against the file size before allocating, so a
// corrupt or hostile file yields a one-line trikv::Error instead of a crash or a huge allocation.
// The writer is atomic: the target path holds either the old file or the complete new one.
#include <cstddef>
#include <filesystem>
#include <vector>

#include <xtensor/xarray.hpp>

namespace trikv {

enum class DType { float32, float64 };

const char* dtype_name(DType dtype);  // "float32" / "float64"

struct NpyArray {
    DType dtype = DType::float32;
    std::vector<std::size_t> shape;  // C order
    std::vector<std::byte> data;     // little-endian, C order, size() * itemsize() bytes

    std::size_t size() const;      // product of shape (1 for a 0-d shape)
    std::size_t itemsize() const;  // 4 or 8

    // Converts from either stored dtype to T (float or double).
    template <class T>
    xt::xarray<T> to_xarray() const;
};

// T = float gives float32, T = double gives float64.
template <class T>
NpyArray make_npy(const xt::xarray<T>& a);

NpyArray read_npy(const std::filesystem::path& path);
void write_npy(const std::filesystem::path& path, const NpyArray& array);

}  // namespace trikv
