#include "attention/matrix_attention.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "attention/softmax.hpp"
#include "attention/stream_tile_kernels.hpp"
#include "attention/tensor_attention.hpp"
#include "framework/error.hpp"
#include "framework/isa.hpp"


namespace trikv {
namespace {

// The inner loops of one tile of double rows (float rows, whatever their storage, run the
// stream-tile kernels of attention/stream_tile_kernels.hpp), written to auto-vectorise, in two
// loop orders:
//
// - Streaming (rows from memory): one row after another, so rows are read strictly in
//   address order, which the hardware prefetchers follow at full bandwidth. Four rows at a
//   time read four streams a row apart and halved the bandwidth at d = 128 (one core: 8.5 vs
//   18.8 GB/s, build/bin/trikv_stream_micro).
// - In cache (few rows): four rows at a time, four independent dot-product chains. There the
//   per-row reduction's latency, not memory, sets the pace, and one row at a time was 10–40%
//   slower (matrix decode at n = 680 … 16384, d = 64).
void tile_scores(const double* q, const double* k, std::size_t rows, std::size_t d, double scale, bool in_cache,
                 double* s) {
    std::size_t r = 0;
    if (in_cache) {
        for (; r + 4 <= rows; r += 4) {
            const double *k0 = k + r * d, *k1 = k0 + d, *k2 = k1 + d, *k3 = k2 + d;
            double dot0 = 0, dot1 = 0, dot2 = 0, dot3 = 0;
#pragma omp simd reduction(+ : dot0, dot1, dot2, dot3)
            for (std::size_t l = 0; l < d; ++l) {
                dot0 += q[l] * k0[l];
                dot1 += q[l] * k1[l];
                dot2 += q[l] * k2[l];
                dot3 += q[l] * k3[l];
            }
            s[r] = scale * dot0, s[r + 1] = scale * dot1, s[r + 2] = scale * dot2, s[r + 3] = scale * dot3;
        }
    }
    for (; r < rows; ++r) {
        const double* row = k + r * d;
        double dot = 0;
#pragma omp simd reduction(+ : dot)
        for (std::size_t l = 0; l < d; ++l) dot += q[l] * row[l];
        s[r] = scale * dot;
    }
}

void tile_accumulate(const double* v, const double* p, std::size_t rows, std::size_t d, bool in_cache,
                     double* acc) {
    std::size_t r = 0;
    if (in_cache) {
        for (; r + 4 <= rows; r += 4) {
            const double *v0 = v + r * d, *v1 = v0 + d, *v2 = v1 + d, *v3 = v2 + d;
            const double p0 = p[r], p1 = p[r + 1], p2 = p[r + 2], p3 = p[r + 3];
#pragma omp simd
            for (std::size_t l = 0; l < d; ++l) acc[l] += (p0 * v0[l] + p1 * v1[l]) + (p2 * v2[l] + p3 * v3[l]);
        }
    }
    for (; r < rows; ++r) {
        const double* row = v + r * d;
        const double weight = p[r];
#pragma omp simd
        for (std::size_t l = 0; l < d; ++l) acc[l] += weight * row[l];
    }
}

// Whether an attend's rows count as in cache for the loop order above: both streams together
// at most 8 MiB, a quarter of this machine's L3 (32 MiB, shared by both cores).
constexpr std::size_t kInCacheStreamBytes = std::size_t(8) << 20;

// Per-worker online softmax over the row blocks it streamed, plus its scratch; one body per
// thread in practice (TBB splits bodies only on steals). One pass: each tile of
// kStreamTileRows rows is scored, exponentiated against the block's running max and
// accumulated while its K and V rows are fresh, so every stored row comes from memory exactly
// once and nothing of size n is ever formed. Each block of kStreamBlockRows rows is summed on
// its own and then merged into the worker's partial: two-level sums keep the float rounding
// error of the n² terms near what per-block GEMVs gave (one running sum over all of a
// worker's rows exceeded the conformance tolerance). Rows are stored as S and computed in T,
// read in place whatever S is: float compute runs the stream-tile kernels of the level
// chosen at the entry point (`kernels`), which convert reduced formats in registers.
template <Scalar T, class S>
class StreamReducer {
    static constexpr bool kFloat = std::is_same_v<T, float>;
    static_assert(kFloat || std::is_same_v<S, T>, "reduced formats compute in float");
    using Kernels = std::conditional_t<kFloat, StreamTileKernels<S>, int>;  // none for double

public:
    StreamReducer(const T* q, const StoredRows<S>& k, const StoredRows<S>& v, T scale, Kernels kernels,
                  MemoryMeter& scratch)
        : q_(q), k_(k), v_(v), scale_(scale), kernels_(kernels),
          in_cache_(2 * k.rows() * k.dim() * sizeof(S) <= kInCacheStreamBytes), meter_(scratch),
          result_(k.dim(), scratch), block_(k.dim(), scratch), scores_(kStreamTileRows, scratch) {}
    StreamReducer(StreamReducer& other, tbb::split)
        : StreamReducer(other.q_, other.k_, other.v_, other.scale_, other.kernels_, other.meter_) {}

    void operator()(const tbb::blocked_range<std::size_t>& blocks) {
        for (std::size_t b = blocks.begin(); b != blocks.end(); ++b) {
            const std::size_t end = std::min(k_.rows(), (b + 1) * kStreamBlockRows);
            block_.max = -std::numeric_limits<T>::infinity();
            block_.norm = 0;
            std::fill_n(block_.acc.data(), k_.dim(), T(0));
            for (std::size_t i = b * kStreamBlockRows; i < end;) {
                const std::size_t rows = std::min({end - i, k_.contiguous_from(i), kStreamTileRows});
                fold_tile(i, rows);
                i += rows;
            }
            result_.merge(block_);
        }
    }
    void join(const StreamReducer& other) { result_.merge(other.result_); }
    const SoftmaxPartial<T>& result() const { return result_; }

private:
    // Rows [i, i+rows), contiguous, folded into the block's running (max, norm, acc).
    void fold_tile(std::size_t i, std::size_t rows) {
        const std::size_t d = k_.dim();
        T* s = scores_.data();
        prefetch_tile(i + rows);
        if constexpr (kFloat) kernels_.scores(q_, k_.values.row(i), row_scales(k_, i), rows, d, scale_, s);
        else tile_scores(q_, k_.values.row(i), rows, d, scale_, in_cache_, s);
        const T top = max_of(s, rows);
        if (top > block_.max) {  // rescale what is folded so far to the new max (0 → 0 at first)
            const T factor = std::exp(block_.max - top);
            for (std::size_t l = 0; l < d; ++l) block_.acc[l] *= factor;
            block_.norm *= factor;
            block_.max = top;
        }
        block_.norm += exp_shifted_sum(s, rows, block_.max);
        if constexpr (kFloat) kernels_.accumulate(v_.values.row(i), row_scales(v_, i), s, rows, d, block_.acc.data());
        else tile_accumulate(v_.values.row(i), s, rows, d, in_cache_, block_.acc.data());
    }

    // The scales of rows from i on (int8), else nullptr.
    static const float* row_scales(const StoredRows<S>& rows, std::size_t i) {
        if constexpr (kRowScaled<S>) return rows.scales.row(i);
        else return nullptr;
    }

    // Asks for the next tile's K and V rows to be brought into L2 while this one is computed.
    void prefetch_tile(std::size_t i) const {
        if (i >= k_.rows()) return;
        const std::size_t bytes = std::min(kStreamTileRows, k_.contiguous_from(i)) * k_.dim() * sizeof(S);
        for (const S* rows : {k_.values.row(i), v_.values.row(i)}) {
            const char* first = reinterpret_cast<const char*>(rows);
            for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(first + b, 0, 2);
        }
        if constexpr (kRowScaled<S>)
            for (const float* scales : {k_.scales.row(i), v_.scales.row(i)})
                for (std::size_t r = 0; r < kStreamTileRows; r += 16) __builtin_prefetch(scales + r, 0, 2);
    }

    const T* q_;
    StoredRows<S> k_, v_;
    T scale_;
    Kernels kernels_;
    bool in_cache_;  // loop order of double tiles (above)
    MemoryMeter& meter_;
    SoftmaxPartial<T> result_;  // this worker's blocks, merged
    SoftmaxPartial<T> block_;   // the running (max, norm, acc) of the current block
    Buffer<T> scores_;
};

// The stream-tile kernels of the active level, chosen once per call (float compute only).
template <Scalar T, class S>
auto stream_kernels() {
    if constexpr (std::is_same_v<T, float>) return stream_tile_kernels<S>(active_isa());
    else return 0;
}

// matrix_decode_partial for rows stored as S, computed in T.
template <Scalar T, class S>
void stream_rows(const T* q, const StoredRows<S>& k, const StoredRows<S>& v, T scale, SoftmaxPartial<T>& partial,
                 MemoryMeter& scratch) {
    require(k.rows() == v.rows(), "matrix_decode: key and value row counts differ");
    if (k.rows() == 0) return;
    StreamReducer<T, S> reducer(q, k, v, scale, stream_kernels<T, S>(), scratch);
    const std::size_t blocks = (k.rows() + kStreamBlockRows - 1) / kStreamBlockRows;
    tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, blocks), reducer);
    partial.merge(reducer.result());
}

// One query: one streaming pass.
template <Scalar T, class S>
void stream_query(const T* q, const StoredRows<S>& k, const StoredRows<S>& v, T scale, T* out, MemoryMeter& scratch) {
    SoftmaxPartial<T> partial(k.dim(), scratch);
    stream_rows(q, k, v, scale, partial, scratch);
    partial.finish(out);
}

// Several queries: tensor attention with one all-ones K1 = V1 row (see matrix_decode).
template <Scalar T, class S>
void stacked_queries(std::size_t count, const T* q, const StoredRows<S>& k, const StoredRows<S>& v, T scale, T* out,
                     MemoryMeter& scratch) {
    const std::size_t d = k.dim();
    // The all-ones row in the storage's format (int8 keeps a row scale: 127 · (1/127)).
    Buffer<T> ones(d, scratch);
    std::fill_n(ones.data(), d, T(1));
    constexpr bool kEncodes = !std::is_same_v<S, T>;
    Buffer<S> encoded(kEncodes ? d : 0, scratch);
    float row_scale = 1.0f;
    const S* row = nullptr;
    if constexpr (kEncodes) {
        if constexpr (kRowScaled<S>) row_scale = encode(ones.data(), encoded.data(), d);
        else encode(ones.data(), encoded.data(), d);
        row = encoded.data();
    } else {
        row = ones.data();
    }
    StoredRows<S> one{RowsView<S>::contiguous(row, 1, d), {}};
    if constexpr (kRowScaled<S>) one.scales = RowsView<float>::contiguous(&row_scale, 1, 1);
    tensor_decode(count, q, one, k, one, v, scale, out, scratch);
}

template <Scalar T>
void prefill_head(const T* q, const T* k, const T* v, std::size_t n, std::size_t d, bool causal,
                  T scale, T* out, MemoryMeter& scratch) {
    tbb::parallel_for(std::size_t(0), n, [&](std::size_t t) {
        const std::size_t rows = causal ? t + 1 : n;
        stream_query(q + t * d, StoredRows<T>::contiguous(k, rows, d), StoredRows<T>::contiguous(v, rows, d), scale,
                     out + t * d, scratch);
    });
}

}  // namespace

double default_matrix_scale(std::size_t dim) { return 1.0 / std::sqrt(static_cast<double>(dim)); }

template <class S>
void matrix_decode(std::size_t count, const ComputeType<S>* q, const StoredRows<S>& k, const StoredRows<S>& v,
                   ComputeType<S> scale, ComputeType<S>* out, MemoryMeter& scratch) {
    require(k.rows() > 0, "matrix_decode: needs at least one key");
    if (count == 1) stream_query(q, k, v, scale, out, scratch);
    else stacked_queries(count, q, k, v, scale, out, scratch);
}

template <class S>
void matrix_decode_partial(const ComputeType<S>* q, const StoredRows<S>& k, const StoredRows<S>& v,
                           ComputeType<S> scale, SoftmaxPartial<ComputeType<S>>& partial, MemoryMeter& scratch) {
    stream_rows(q, k, v, scale, partial, scratch);
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

#define TRIKV_INSTANTIATE(S)                                                                                   \
    template void matrix_decode<S>(std::size_t, const ComputeType<S>*, const StoredRows<S>&, const StoredRows<S>&,    \
                                   ComputeType<S>, ComputeType<S>*, MemoryMeter&);                                    \
    template void matrix_decode_partial<S>(const ComputeType<S>*, const StoredRows<S>&, const StoredRows<S>&,         \
                                           ComputeType<S>, SoftmaxPartial<ComputeType<S>>&, MemoryMeter&);
TRIKV_FOR_EACH_STORAGE(TRIKV_INSTANTIATE)
#undef TRIKV_INSTANTIATE

// Whole sequences come as xtensor arrays of the compute types only.
#define TRIKV_INSTANTIATE_PREFILL(T)                                                                                \
    template Matrix<T> matrix_prefill<T>(const Matrix<T>&, const Matrix<T>&, const Matrix<T>&, bool, T);           \
    template Heads<T> matrix_prefill<T>(const Heads<T>&, const Heads<T>&, const Heads<T>&, bool, T);
TRIKV_INSTANTIATE_PREFILL(float)
TRIKV_INSTANTIATE_PREFILL(double)
#undef TRIKV_INSTANTIATE_PREFILL

}  // namespace trikv
