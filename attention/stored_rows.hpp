#pragma once
// Rows stored in a reduced-precision format (framework/storage.hpp), as the kernels read
// them: a RowsView of the stored scalars plus, for int8, a RowsView of the per-row scales
// (dim 1, chunked like the rows). Kernels never compute on the storage format: they decode a
// row or a tile to float in per-worker scratch and run the float path on it, so a float
// StoredRows reads the storage directly and costs nothing extra (dense_rows below).
//
// The bulk converters come twice: `portable::` is plain C++ compiled for the baseline
// target, the unqualified ones are dispatched at load time (AVX-512 / AVX2 clones, F16C for
// half) and give bit-identical results (tests/test_cache_dtypes.cpp).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "attention/rows.hpp"
#include "framework/storage.hpp"

namespace trikv {

namespace portable {
void encode(const float* in, bf16* out, std::size_t n);
void encode(const float* in, fp16* out, std::size_t n);
float encode(const float* in, std::int8_t* out, std::size_t n);  // one row; returns its scale
void decode(const bf16* in, float* out, std::size_t n);
void decode(const fp16* in, float* out, std::size_t n);
void decode(const std::int8_t* in, const float* scales, std::size_t rows, std::size_t dim, float* out);
}  // namespace portable

// Dispatched versions of the same.
void encode(const float* in, bf16* out, std::size_t n);
void encode(const float* in, fp16* out, std::size_t n);
float encode(const float* in, std::int8_t* out, std::size_t n);
void decode(const bf16* in, float* out, std::size_t n);
void decode(const fp16* in, float* out, std::size_t n);
// rows × dim int8 values, row r scaled by scales[r].
void decode(const std::int8_t* in, const float* scales, std::size_t rows, std::size_t dim, float* out);

// The storage types the kernels are instantiated for, one list for every kernel file:
// X(S) for each.
#define TRIKV_FOR_EACH_STORAGE(X) X(float) X(double) X(bf16) X(fp16) X(std::int8_t)

// The type kernels compute in for rows stored as S: the storage's own for float and double,
// float for the reduced formats.
template <class S>
using ComputeType = std::conditional_t<std::is_same_v<S, double>, double, float>;

template <class S>
struct StoredRows {
    RowsView<S> values;
    RowsView<float> scales;  // int8 only: one float per row, chunked like `values`

    // Rows of an unscaled format (float, double, bf16, fp16) as they are.
    static StoredRows plain(const RowsView<S>& rows)
        requires(!kRowScaled<S>)
    {
        return {rows, {}};
    }
    static StoredRows contiguous(const S* data, std::size_t rows, std::size_t dim)
        requires(!kRowScaled<S>)
    {
        return plain(RowsView<S>::contiguous(data, rows, dim));
    }

    std::size_t rows() const { return values.rows; }
    std::size_t dim() const { return values.dim; }
    std::size_t contiguous_from(std::size_t i) const { return values.contiguous_from(i); }
    // The first `count` rows, and rows [begin, begin + count), as RowsView's (scales follow).
    StoredRows prefix(std::size_t count) const {
        return {values.prefix(count), kRowScaled<S> ? scales.prefix(count) : scales};
    }
    StoredRows rows_from(std::size_t begin, std::size_t count) const {
        return {values.rows_from(begin, count), kRowScaled<S> ? scales.rows_from(begin, count) : scales};
    }

    // Rows [i, i + count) as float, row-major into out (count·dim floats); any i and count.
    void decode(std::size_t i, std::size_t count, float* out) const {
        const std::size_t d = values.dim;
        for (std::size_t done = 0; done < count;) {
            const std::size_t r = i + done, run = std::min(count - done, values.contiguous_from(r));
            float* to = out + done * d;
            if constexpr (kRowScaled<S>) trikv::decode(values.row(r), scales.row(r), run, d, to);
            else if constexpr (std::is_same_v<S, float>) std::memcpy(to, values.row(r), run * d * sizeof(float));
            else trikv::decode(values.row(r), to, run * d);
            done += run;
        }
    }
};

// Rows [i, i + count) as dense rows of T: the storage itself when it holds T (then the rows
// must be contiguous, count ≤ contiguous_from(i)), else decoded into `scratch` (count·dim).
template <class T, class S>
inline const T* dense_rows(const StoredRows<S>& rows, std::size_t i, std::size_t count, T* scratch) {
    if constexpr (std::is_same_v<S, T>) {
        return rows.values.row(i);
    } else {
        static_assert(std::is_same_v<T, float>, "reduced formats decode to float");
        rows.decode(i, count, scratch);
        return scratch;
    }
}

}  // namespace trikv
