#include "attention/matrix_attention.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "attention/blas.hpp"
#include "attention/softmax.hpp"
#include "framework/error.hpp"

namespace trikv {
namespace {

// Per-worker partial softmax over the row blocks it streamed, plus its score and value
// scratch; one body per thread in practice (TBB splits bodies only on steals). Rows are
// stored as S and computed in T: with S = T the GEMVs read the storage in place; otherwise
// (reduced formats, T = float) each run of K and V rows is decoded to float scratch first.
template <Scalar T, class S>
class StreamReducer {
    static constexpr bool kDecodes = !std::is_same_v<S, T>;
    static constexpr std::size_t kDecodeRows = kStreamDecodeRows;

public:
    StreamReducer(const T* q, const StoredRows<S>& k, const StoredRows<S>& v, T scale,
                  MemoryMeter& scratch)
        : q_(q), k_(k), v_(v), scale_(scale), meter_(scratch), result_(k.dim(), scratch),
          scores_(kStreamBlockRows, scratch), block_acc_(k.dim(), scratch),
          k_rows_(kDecodes ? kDecodeRows * k.dim() : 0, scratch),
          v_rows_(kDecodes ? kDecodeRows * k.dim() : 0, scratch) {}
    StreamReducer(StreamReducer& other, tbb::split)
        : StreamReducer(other.q_, other.k_, other.v_, other.scale_, other.meter_) {}

    void operator()(const tbb::blocked_range<std::size_t>& blocks) {
        for (std::size_t b = blocks.begin(); b != blocks.end(); ++b) {
            const std::size_t end = std::min(k_.rows(), (b + 1) * kStreamBlockRows);
            for (std::size_t i = b * kStreamBlockRows; i < end;) {
                const std::size_t rows = std::min(end - i, k_.contiguous_from(i));
                fold_rows(i, rows);
                i += rows;
            }
        }
    }
    void join(const StreamReducer& other) { result_.merge(other.result_); }
    const SoftmaxPartial<T>& result() const { return result_; }

private:
    // Rows [i, i+rows) are contiguous: scores by GEMV, exp, then Vᵀ·p by GEMV. Decoded rows
    // go through scratch kDecodeRows at a time (one GEMV each), so they are read back from L1.
    void fold_rows(std::size_t i, std::size_t rows) {
        const int d = static_cast<int>(k_.dim());
        const std::size_t step = kDecodes ? kDecodeRows : rows;
        T* s = scores_.data();
        for (std::size_t r = 0; r < rows; r += step) {
            const std::size_t m = std::min(step, rows - r);
            blas::gemv(false, static_cast<int>(m), d, scale_, dense_rows(k_, i + r, m, k_rows_.data()), d, q_, T(0),
                       s + r);
        }
        const T top = max_of(s, rows);
        const T norm = exp_shifted_sum(s, rows, top);
        for (std::size_t r = 0; r < rows; r += step) {
            const std::size_t m = std::min(step, rows - r);
            blas::gemv(true, static_cast<int>(m), d, T(1), dense_rows(v_, i + r, m, v_rows_.data()), d, s + r,
                       T(r == 0 ? 0 : 1), block_acc_.data());
        }
        result_.merge(top, norm, block_acc_.data());
    }

    const T* q_;
    StoredRows<S> k_, v_;
    T scale_;
    MemoryMeter& meter_;
    SoftmaxPartial<T> result_;
    Buffer<T> scores_, block_acc_;
    Buffer<T> k_rows_, v_rows_;  // decoded rows; empty when S = T
};

// matrix_decode_partial for rows stored as S, computed in T.
template <Scalar T, class S>
void stream_rows(const T* q, const StoredRows<S>& k, const StoredRows<S>& v, T scale, SoftmaxPartial<T>& partial,
                 MemoryMeter& scratch) {
    require(k.rows() == v.rows(), "matrix_decode: key and value row counts differ");
    if (k.rows() == 0) return;
    StreamReducer<T, S> reducer(q, k, v, scale, scratch);
    const std::size_t blocks = (k.rows() + kStreamBlockRows - 1) / kStreamBlockRows;
    tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, blocks), reducer);
    partial.merge(reducer.result());
}

template <Scalar T>
void prefill_head(const T* q, const T* k, const T* v, std::size_t n, std::size_t d, bool causal,
                  T scale, T* out, MemoryMeter& scratch) {
    tbb::parallel_for(std::size_t(0), n, [&](std::size_t t) {
        const std::size_t rows = causal ? t + 1 : n;
        matrix_decode(q + t * d, RowsView<T>::contiguous(k, rows, d),
                      RowsView<T>::contiguous(v, rows, d), scale, out + t * d, scratch);
    });
}

}  // namespace

double default_matrix_scale(std::size_t dim) { return 1.0 / std::sqrt(static_cast<double>(dim)); }

template <Scalar T>
void matrix_decode_partial(const T* q, const RowsView<T>& k, const RowsView<T>& v, T scale,
                           SoftmaxPartial<T>& partial, MemoryMeter& scratch) {
    stream_rows(q, StoredRows<T>::plain(k), StoredRows<T>::plain(v), scale, partial, scratch);
}

template <class S>
void matrix_decode_partial(const float* q, const StoredRows<S>& k, const StoredRows<S>& v, float scale,
                           SoftmaxPartial<float>& partial, MemoryMeter& scratch) {
    stream_rows(q, k, v, scale, partial, scratch);
}

template <class S>
void matrix_decode(const float* q, const StoredRows<S>& k, const StoredRows<S>& v, float scale, float* out,
                   MemoryMeter& scratch) {
    require(k.rows() > 0, "matrix_decode: needs at least one key");
    SoftmaxPartial<float> partial(k.dim(), scratch);
    stream_rows(q, k, v, scale, partial, scratch);
    partial.finish(out);
}

template <Scalar T>
void matrix_decode(const T* q, const RowsView<T>& k, const RowsView<T>& v, T scale, T* out,
                   MemoryMeter& scratch) {
    require(k.rows > 0, "matrix_decode: needs at least one key");
    SoftmaxPartial<T> partial(k.dim, scratch);
    matrix_decode_partial(q, k, v, scale, partial, scratch);
    partial.finish(out);
}

template <Scalar T>
Matrix<T> matrix_prefill(const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v, bool causal,
                         T scale) {
    require(k.shape() == q.shape() && v.shape() == q.shape(),
            "matrix attention: q, k, v differ in shape");
    const std::size_t n = q.shape(0), d = q.shape(1);
    Matrix<T> out = xt::zeros<T>({n, d});
    if (n == 0 || d == 0) return out;
    MemoryMeter scratch;
    prefill_head(q.data(), k.data(), v.data(), n, d, causal, scale, out.data(), scratch);
    return out;
}

template <Scalar T>
Heads<T> matrix_prefill(const Heads<T>& q, const Heads<T>& k, const Heads<T>& v, bool causal,
                        T scale) {
    require(k.shape() == q.shape() && v.shape() == q.shape(),
            "matrix attention: q, k, v differ in shape");
    const std::size_t h = q.shape(0), n = q.shape(1), d = q.shape(2);
    Heads<T> out = xt::zeros<T>({h, n, d});
    if (n == 0 || d == 0) return out;
    MemoryMeter scratch;
    tbb::parallel_for(std::size_t(0), h, [&](std::size_t head) {
        const std::size_t offset = head * n * d;
        prefill_head(q.data() + offset, k.data() + offset, v.data() + offset, n, d, causal, scale,
                     out.data() + offset, scratch);
    });
    return out;
}

#define TRIKV_INSTANTIATE(T)                                                                      \
    template void matrix_decode<T>(const T*, const RowsView<T>&, const RowsView<T>&, T, T*,       \
                                   MemoryMeter&);                                                 \
    template void matrix_decode_partial<T>(const T*, const RowsView<T>&, const RowsView<T>&, T,   \
                                           SoftmaxPartial<T>&, MemoryMeter&);                     \
    template Matrix<T> matrix_prefill<T>(const Matrix<T>&, const Matrix<T>&, const Matrix<T>&,    \
                                         bool, T);                                                \
    template Heads<T> matrix_prefill<T>(const Heads<T>&, const Heads<T>&, const Heads<T>&, bool, T);
TRIKV_INSTANTIATE(float)
TRIKV_INSTANTIATE(double)
#undef TRIKV_INSTANTIATE

#define TRIKV_INSTANTIATE_STORED(S)                                                                         \
    template void matrix_decode<S>(const float*, const StoredRows<S>&, const StoredRows<S>&, float, float*, \
                                   MemoryMeter&);                                                           \
    template void matrix_decode_partial<S>(const float*, const StoredRows<S>&, const StoredRows<S>&, float, \
                                           SoftmaxPartial<float>&, MemoryMeter&);
TRIKV_INSTANTIATE_STORED(float)
TRIKV_INSTANTIATE_STORED(bf16)
TRIKV_INSTANTIATE_STORED(fp16)
TRIKV_INSTANTIATE_STORED(std::int8_t)
#undef TRIKV_INSTANTIATE_STORED

}  // namespace trikv
