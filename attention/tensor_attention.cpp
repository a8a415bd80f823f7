#include "attention/tensor_attention.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "attention/blas.hpp"
#include "attention/softmax.hpp"
#include "framework/error.hpp"

namespace trikv {
namespace {

// The per-worker state of the decode kernel: its partial softmax over the row blocks it has
// processed, plus scratch tiles. TBB splits a body only when work is stolen, so there are
// about as many bodies (and scratch sets) as threads. Rows are stored as S and computed in T:
// with S = T the kernel reads the storage in place; otherwise (reduced formats, T = float)
// each K1 row is decoded into its row of A, each V1 row into one row of scratch and each
// K2/V2 tile into a tile of scratch, and the float path runs on those.
template <Scalar T, class S>
class PairBlockReducer {
    static constexpr bool kDecodes = !std::is_same_v<S, T>;

public:
    PairBlockReducer(const T* q, const StoredRows<S>& k1, const StoredRows<S>& k2,
                     const StoredRows<S>& v1, const StoredRows<S>& v2, T scale, MemoryMeter& scratch)
        : q_(q), k1_(k1), k2_(k2), v1_(v1), v2_(v2), scale_(scale), meter_(scratch),
          result_(k1.dim(), scratch),
          scaled_k1_(kPairBlockRows * k1.dim(), scratch),
          scores_(kPairBlockRows * kPairTileRows, scratch),
          mixed_v2_(kPairBlockRows * k1.dim(), scratch),
          row_max_(kPairBlockRows, scratch),
          row_norm_(kPairBlockRows, scratch),
          block_acc_(k1.dim(), scratch),
          v1_row_(kDecodes ? k1.dim() : 0, scratch),
          k2_tile_(kDecodes ? kPairTileRows * k1.dim() : 0, scratch),
          v2_tile_(kDecodes ? kPairTileRows * k1.dim() : 0, scratch) {}

    PairBlockReducer(PairBlockReducer& other, tbb::split)
        : PairBlockReducer(other.q_, other.k1_, other.k2_, other.v1_, other.v2_, other.scale_,
                           other.meter_) {}

    void operator()(const tbb::blocked_range<std::size_t>& blocks) {
        for (std::size_t b = blocks.begin(); b != blocks.end(); ++b) process_block(b);
    }
    void join(const PairBlockReducer& other) { result_.merge(other.result_); }
    const SoftmaxPartial<T>& result() const { return result_; }

private:
    void process_block(std::size_t block) {
        const std::size_t d = k1_.dim();
        const std::size_t i0 = block * kPairBlockRows;
        const std::size_t rows = std::min(kPairBlockRows, k1_.rows() - i0);
        // A = scale·(K1_block ∘ q): the query folded into the left factor (SPEC §3).
        for (std::size_t r = 0; r < rows; ++r) {
            T* a = scaled_k1_.data() + r * d;
            const T* k1 = dense_rows(k1_, i0 + r, 1, a);  // decoded in place when S ≠ T
            for (std::size_t l = 0; l < d; ++l) a[l] = scale_ * q_[l] * k1[l];
        }
        std::fill_n(row_max_.data(), rows, -std::numeric_limits<T>::infinity());
        std::fill_n(row_norm_.data(), rows, T(0));
        std::fill_n(mixed_v2_.data(), rows * d, T(0));

        for (std::size_t j0 = 0; j0 < k2_.rows();) {
            const std::size_t cols = std::min(kPairTileRows, k2_.contiguous_from(j0));
            fold_tile(rows, j0, cols);
            j0 += cols;
        }

        // Block partial: Σ_i exp(m_i − M)·(v1_i ∘ u_i), merged into this worker's result.
        const T top = max_of(row_max_.data(), rows);
        T norm = 0;
        std::fill_n(block_acc_.data(), d, T(0));
        for (std::size_t r = 0; r < rows; ++r) {
            const T weight = std::exp(row_max_[r] - top);
            norm += weight * row_norm_[r];
            const T* v1 = dense_rows(v1_, i0 + r, 1, v1_row_.data());
            const T* u = mixed_v2_.data() + r * d;
            for (std::size_t l = 0; l < d; ++l) block_acc_[l] += weight * v1[l] * u[l];
        }
        result_.merge(top, norm, block_acc_.data());
    }

    // Scores of the block against K2 rows [j0, j0+cols), online softmax per row, U += P·V2.
    void fold_tile(std::size_t rows, std::size_t j0, std::size_t cols) {
        const int d = static_cast<int>(k1_.dim());
        T* s = scores_.data();
        const int ld = static_cast<int>(kPairTileRows);
        blas::gemm(static_cast<int>(rows), static_cast<int>(cols), d, T(1), scaled_k1_.data(), d,
                   dense_rows(k2_, j0, cols, k2_tile_.data()), d, /*b_transposed=*/true, T(0), s, ld);
        for (std::size_t r = 0; r < rows; ++r) {
            T* srow = s + r * kPairTileRows;
            const T new_max = std::max(row_max_[r], max_of(srow, cols));
            const T sum = exp_shifted_sum(srow, cols, new_max);
            if (new_max != row_max_[r] && row_norm_[r] != T(0)) {
                const T shrink = std::exp(row_max_[r] - new_max);
                row_norm_[r] *= shrink;
                T* u = mixed_v2_.data() + r * k1_.dim();
                for (std::size_t l = 0; l < k1_.dim(); ++l) u[l] *= shrink;
            }
            row_norm_[r] += sum;
            row_max_[r] = new_max;
        }
        blas::gemm(static_cast<int>(rows), d, static_cast<int>(cols), T(1), s, ld,
                   dense_rows(v2_, j0, cols, v2_tile_.data()), d, /*b_transposed=*/false, T(1), mixed_v2_.data(), d);
    }

    const T* q_;
    StoredRows<S> k1_, k2_, v1_, v2_;
    T scale_;
    MemoryMeter& meter_;
    SoftmaxPartial<T> result_;
    Buffer<T> scaled_k1_, scores_, mixed_v2_, row_max_, row_norm_, block_acc_;
    Buffer<T> v1_row_, k2_tile_, v2_tile_;  // decoded rows; empty when S = T
};

// tensor_decode_partial for rows stored as S, computed in T.
template <Scalar T, class S>
void decode_pairs(const T* q, const StoredRows<S>& k1, const StoredRows<S>& k2, const StoredRows<S>& v1,
                  const StoredRows<S>& v2, T scale, SoftmaxPartial<T>& partial, MemoryMeter& scratch) {
    require(k1.rows() == v1.rows() && k2.rows() == v2.rows(), "tensor_decode: key and value row counts differ");
    if (k1.rows() == 0 || k2.rows() == 0) return;  // no pairs: nothing to fold
    PairBlockReducer<T, S> reducer(q, k1, k2, v1, v2, scale, scratch);
    const std::size_t blocks = (k1.rows() + kPairBlockRows - 1) / kPairBlockRows;
    tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, blocks), reducer);
    partial.merge(reducer.result());
}

// Causal or full tensor attention of every query of one head; inputs are [n, d] C order.
template <Scalar T>
void prefill_head(const T* q, const T* k1, const T* k2, const T* v1, const T* v2, std::size_t n,
                  std::size_t d, bool causal, T scale, T* out, MemoryMeter& scratch) {
    tbb::parallel_for(std::size_t(0), n, [&](std::size_t t) {
        const std::size_t rows = causal ? t + 1 : n;
        tensor_decode(q + t * d, RowsView<T>::contiguous(k1, rows, d),
                      RowsView<T>::contiguous(k2, rows, d), RowsView<T>::contiguous(v1, rows, d),
                      RowsView<T>::contiguous(v2, rows, d), scale, out + t * d, scratch);
    });
}

template <class Array>
void require_same_shapes(const Array& q, const Array& k1, const Array& k2, const Array& v1,
                         const Array& v2) {
    for (const Array* other : {&k1, &k2, &v1, &v2})
        require(other->shape() == q.shape(), "tensor attention: q, k1, k2, v1, v2 differ in shape");
}

}  // namespace

template <Scalar T>
void tensor_decode_partial(const T* q, const RowsView<T>& k1, const RowsView<T>& k2, const RowsView<T>& v1,
                           const RowsView<T>& v2, T scale, SoftmaxPartial<T>& partial, MemoryMeter& scratch) {
    using Rows = StoredRows<T>;
    decode_pairs(q, Rows::plain(k1), Rows::plain(k2), Rows::plain(v1), Rows::plain(v2), scale, partial, scratch);
}

template <class S>
void tensor_decode_partial(const float* q, const StoredRows<S>& k1, const StoredRows<S>& k2, const StoredRows<S>& v1,
                           const StoredRows<S>& v2, float scale, SoftmaxPartial<float>& partial, MemoryMeter& scratch) {
    decode_pairs(q, k1, k2, v1, v2, scale, partial, scratch);
}

template <class S>
void tensor_decode(const float* q, const StoredRows<S>& k1, const StoredRows<S>& k2, const StoredRows<S>& v1,
                   const StoredRows<S>& v2, float scale, float* out, MemoryMeter& scratch) {
    require(k1.rows() > 0 && k2.rows() > 0, "tensor_decode: needs at least one key on each side");
    SoftmaxPartial<float> partial(k1.dim(), scratch);
    decode_pairs(q, k1, k2, v1, v2, scale, partial, scratch);
    partial.finish(out);
}

template <Scalar T>
void tensor_decode(const T* q, const RowsView<T>& k1, const RowsView<T>& k2, const RowsView<T>& v1,
                   const RowsView<T>& v2, T scale, T* out, MemoryMeter& scratch) {
    require(k1.rows > 0 && k2.rows > 0, "tensor_decode: needs at least one key on each side");
    SoftmaxPartial<T> partial(k1.dim, scratch);
    tensor_decode_partial(q, k1, k2, v1, v2, scale, partial, scratch);
    partial.finish(out);
}

template <Scalar T>
Matrix<T> tensor_prefill(const Matrix<T>& q, const Matrix<T>& k1, const Matrix<T>& k2,
                         const Matrix<T>& v1, const Matrix<T>& v2, bool causal, T scale) {
    require_same_shapes(q, k1, k2, v1, v2);
    const std::size_t n = q.shape(0), d = q.shape(1);
    Matrix<T> out = xt::zeros<T>({n, d});
    if (n == 0 || d == 0) return out;
    MemoryMeter scratch;
    prefill_head(q.data(), k1.data(), k2.data(), v1.data(), v2.data(), n, d, causal, scale,
                 out.data(), scratch);
    return out;
}

template <Scalar T>
Heads<T> tensor_prefill(const Heads<T>& q, const Heads<T>& k1, const Heads<T>& k2,
                        const Heads<T>& v1, const Heads<T>& v2, bool causal, T scale) {
    require_same_shapes(q, k1, k2, v1, v2);
    const std::size_t h = q.shape(0), n = q.shape(1), d = q.shape(2);
    Heads<T> out = xt::zeros<T>({h, n, d});
    if (n == 0 || d == 0) return out;
    MemoryMeter scratch;
    tbb::parallel_for(std::size_t(0), h, [&](std::size_t head) {
        const std::size_t offset = head * n * d;
        prefill_head(q.data() + offset, k1.data() + offset, k2.data() + offset,
                     v1.data() + offset, v2.data() + offset, n, d, causal, scale,
                     out.data() + offset, scratch);
    });
    return out;
}

#define TRIKV_INSTANTIATE(T)                                                                    \
    template void tensor_decode<T>(const T*, const RowsView<T>&, const RowsView<T>&,            \
                                   const RowsView<T>&, const RowsView<T>&, T, T*, MemoryMeter&); \
    template void tensor_decode_partial<T>(const T*, const RowsView<T>&, const RowsView<T>&,    \
                                           const RowsView<T>&, const RowsView<T>&, T,            \
                                           SoftmaxPartial<T>&, MemoryMeter&);                    \
    template Matrix<T> tensor_prefill<T>(const Matrix<T>&, const Matrix<T>&, const Matrix<T>&,  \
                                         const Matrix<T>&, const Matrix<T>&, bool, T);          \
    template Heads<T> tensor_prefill<T>(const Heads<T>&, const Heads<T>&, const Heads<T>&,      \
                                        const Heads<T>&, const Heads<T>&, bool, T);
TRIKV_INSTANTIATE(float)
TRIKV_INSTANTIATE(double)
#undef TRIKV_INSTANTIATE

#define TRIKV_INSTANTIATE_STORED(S)                                                                       \
    template void tensor_decode<S>(const float*, const StoredRows<S>&, const StoredRows<S>&,              \
                                   const StoredRows<S>&, const StoredRows<S>&, float, float*, MemoryMeter&); \
    template void tensor_decode_partial<S>(const float*, const StoredRows<S>&, const StoredRows<S>&,      \
                                           const StoredRows<S>&, const StoredRows<S>&, float,             \
                                           SoftmaxPartial<float>&, MemoryMeter&);
TRIKV_INSTANTIATE_STORED(float)
TRIKV_INSTANTIATE_STORED(bf16)
TRIKV_INSTANTIATE_STORED(fp16)
TRIKV_INSTANTIATE_STORED(std::int8_t)
#undef TRIKV_INSTANTIATE_STORED

}  // namespace trikv
