#pragma once
// Reading and writing NumPy .npy files holding float32 or float64 arrays in C order.
// The reader validates every header field against the file size before allocating, so a
// corrupt or hostile file yields a one-line trikv::Error instead of a crash or a huge allocation.
// Only regular files are read (framework/files.hpp). The writer is atomic: the target path
// holds either the old file or the complete new one (a FIFO or character device, such as
// /dev/stdout on a pipe, is streamed to instead).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "framework/dtype.hpp"

namespace trikv {


struct NpyArray {
    Dtype dtype = Dtype::f32;  // f32 or f64
    std::vector<std::size_t> shape;  // C order
    std::vector<std::byte> data;     // little-endian, C order, size() * itemsize() bytes

    std::size_t size() const;      // product of shape (1 for a 0-d shape)
    std::size_t itemsize() const;  // 4 or 8

    // Converts from either stored dtype to T (float or double).
    template <class T>
    xt::xarray<T> to_xarray() const;
    // The same, refusing (trikv::Error naming `where`, the element and its value) any element
    // that is not finite in T: an inf or NaN stored, or a float64 beyond float32's range.
    template <class T>
    xt::xarray<T> to_finite_xarray(const std::string& where) const;
    // The same into `out` (size() elements), for callers that own the destination.
    template <class T>
    void copy_finite_to(T* out, const std::string& where) const;
};

// What a .npy file holds, from its header alone (checked against the file's size): shapes and
// memory can be validated before any data is read.
struct NpyHeader {
    Dtype dtype = Dtype::f32;  // f32 or f64
    std::vector<std::size_t> shape;
    std::uint64_t data_bytes = 0;
    std::size_t size() const;  // product of shape
};

// T = float gives float32, T = double gives float64.
template <class T>
NpyArray make_npy(const xt::xarray<T>& a);

NpyArray read_npy(const std::filesystem::path& path);
NpyHeader read_npy_header(const std::filesystem::path& path);
void write_npy(const std::filesystem::path& path, const NpyArray& array);

}  // namespace trikv
