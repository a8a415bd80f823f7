#pragma once
// The element types trikv reads, writes and stores, in one enum: a cache's storage (f32, bf16,
// fp16, int8: framework/storage.hpp) and the arrays of .npy files (f32, f64: framework/npy.hpp).
#include <string>
#include <vector>

namespace trikv {

enum class Dtype { f32, bf16, fp16, int8, f64 };

// The short name, as a cache spec's dtype parameter spells it: "f32", "bf16", "fp16", "int8", "f64".
inline const char* dtype_name(Dtype dtype) {
    switch (dtype) {
        case Dtype::f32: return "f32";
        case Dtype::bf16: return "bf16";
        case Dtype::fp16: return "fp16";
        case Dtype::int8: return "int8";
        case Dtype::f64: return "f64";
    }
    return "?";
}

// NumPy's name, as files, results and messages spell it: "float32", "bfloat16", "float16", "int8", "float64".
inline const char* numpy_dtype_name(Dtype dtype) {
    switch (dtype) {
        case Dtype::f32: return "float32";
        case Dtype::bf16: return "bfloat16";
        case Dtype::fp16: return "float16";
        case Dtype::int8: return "int8";
        case Dtype::f64: return "float64";
    }
    return "?";
}

// The names a cache's dtype parameter takes (storage formats), in Dtype order.
inline std::vector<std::string> dtype_names() { return {"f32", "bf16", "fp16", "int8"}; }

}  // namespace trikv
