// sparse-factor — the four-cache (factor) for sparse keys and values: K1, K2, V1, V2 kept as
// compressed rows (caches/sparse_rows.hpp: uint16 index + float value per non-zero, a uint16
// count per row). With s non-zeros per row it holds about 4(t+1)·(6s + 2) bytes per head
// instead of 4(t+1)·4d, and one attend costs O((t+1)²·s) instead of O((t+1)²·d):
//
//   for each row i:  w = q ∘ k1_i, scattered into a dense d-vector (s writes);
//                    s_ij = scale·Σ_{l ∈ supp k2_j} w_l·k2_jl      for every j (s reads each);
//                    online softmax over j, u_i = Σ_j p_ij·v2_j over supp v2_j (s adds each);
//   then             o = Σ_i v1_i ∘ u_i, only over supp v1_i (SPEC §3, exactly).
//
// Rows i run in parallel blocks; each worker keeps O(d) scratch (w, u, its partial softmax, a
// tile of scores and one row of reader scratch per stream) and workers merge their softmax
// partials (attention/softmax.hpp), so no (t+1)² or (t+1)·d buffer is ever formed.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>

#include "attention/softmax.hpp"
#include "caches/registry.hpp"
#include "caches/sparse_factor_streams.hpp"

namespace trikv {
namespace {

constexpr std::size_t kEntryChunk = 1024;  // entries per chunk: 6 KiB, small slack at small t
constexpr std::size_t kRowChunk = 256;     // rows per count chunk
constexpr std::size_t kRowsPerTask = 16;   // rows i per parallel task
constexpr std::size_t kTileRows = 256;     // rows j scored before one exponential pass

using Streams = SparseFactorStreams;

// Folds rows i of one head into a partial softmax over the pairs (i, j), j < t+1.
class RowBlockReducer {
public:
    RowBlockReducer(const float* q, const Streams& streams, std::size_t head, float scale, MemoryMeter& scratch)
        : q_(q), streams_(streams), head_(head), scale_(scale), meter_(scratch), result_(streams.dim(), scratch),
          w_(streams.dim(), scratch), u_(streams.dim(), scratch), row_acc_(streams.dim(), scratch),
          scores_(kTileRows, scratch), k1_(stream(Streams::k1), scratch), k2_(stream(Streams::k2), scratch),
          v1_(stream(Streams::v1), scratch), v2_(stream(Streams::v2), scratch) {
        std::fill_n(w_.data(), w_.size(), 0.0f);
        std::fill_n(row_acc_.data(), row_acc_.size(), 0.0f);
    }
    RowBlockReducer(RowBlockReducer& other, tbb::split)
        : RowBlockReducer(other.q_, other.streams_, other.head_, other.scale_, other.meter_) {}

    void operator()(const tbb::blocked_range<std::size_t>& tasks) {
        const std::size_t rows = stream(Streams::k1).rows();
        for (std::size_t task = tasks.begin(); task != tasks.end(); ++task) {
            const std::size_t begin = task * kRowsPerTask, end = std::min(rows, begin + kRowsPerTask);
            k1_.seek(begin);
            v1_.seek(begin);
            for (std::size_t i = begin; i < end; ++i) fold_row(k1_.next(), v1_.next());
        }
    }
    void join(const RowBlockReducer& other) { result_.merge(other.result_); }
    const SoftmaxPartial<float>& result() const { return result_; }

private:
    const SparseRows& stream(Streams::Stream s) const { return streams_.store(head_, s); }

    // Pairs (i, j) for every j: the row's own running max and normaliser, then merged.
    void fold_row(const SparseRow& k1, const SparseRow& v1) {
        const std::size_t rows = stream(Streams::k2).rows(), d = streams_.dim();
        const bool wants_values = v1.count > 0;  // else the row only adds to the normaliser
        for (std::size_t e = 0; e < k1.count; ++e) w_[k1.index[e]] = q_[k1.index[e]] * k1.value[e];
        if (wants_values) std::fill_n(u_.data(), d, 0.0f);
        float max = -std::numeric_limits<float>::infinity(), norm = 0;
        k2_.seek(0);
        v2_.seek(0);
        float* s = scores_.data();
        for (std::size_t j0 = 0; j0 < rows; j0 += kTileRows) {
            const std::size_t tile = std::min(kTileRows, rows - j0);
            for (std::size_t j = 0; j < tile; ++j) {
                const SparseRow k2 = k2_.next();
                float dot = 0;
                for (std::size_t e = 0; e < k2.count; ++e) dot += w_[k2.index[e]] * k2.value[e];
                s[j] = scale_ * dot;
            }
            const float top = std::max(max, max_of(s, tile));
            if (top > max && norm != 0) {
                const float shrink = std::exp(max - top);
                norm *= shrink;
                if (wants_values)
                    for (std::size_t l = 0; l < d; ++l) u_[l] *= shrink;
            }
            max = top;
            norm += exp_shifted_sum(s, tile, max);
            if (!wants_values) continue;
            for (std::size_t j = 0; j < tile; ++j) {
                const SparseRow v2 = v2_.next();
                for (std::size_t e = 0; e < v2.count; ++e) u_[v2.index[e]] += s[j] * v2.value[e];
            }
        }
        for (std::size_t e = 0; e < k1.count; ++e) w_[k1.index[e]] = 0;
        for (std::size_t e = 0; e < v1.count; ++e) row_acc_[v1.index[e]] = v1.value[e] * u_[v1.index[e]];
        result_.merge(max, norm, row_acc_.data());
        for (std::size_t e = 0; e < v1.count; ++e) row_acc_[v1.index[e]] = 0;
    }

    const float* q_;
    const Streams& streams_;
    std::size_t head_;
    float scale_;
    MemoryMeter& meter_;
    SoftmaxPartial<float> result_;
    Buffer<float> w_;        // q ∘ k1_i scattered; zero outside supp k1_i between rows
    Buffer<float> u_;        // Σ_j p_ij v2_j of the current row
    Buffer<float> row_acc_;  // v1_i ∘ u_i; zero outside supp v1_i between rows
    Buffer<float> scores_;   // one tile of s_ij, then exp(s_ij − max)
    SparseRows::Reader k1_, k2_, v1_, v2_;
};

class SparseFactorCache final : public Cache {
public:
    explicit SparseFactorCache(const CacheShape& shape)
        : Cache(shape), factors_(shape.heads, shape.dim, kEntryChunk, kRowChunk, resident_) {}

    std::string spec() const override { return "sparse-factor"; }
    // Only the per-row counts can be allocated ahead: the entries depend on the data.
    void reserve(std::size_t tokens) override { factors_.reserve_rows(tokens); }

    // At the observed densities ρ (stored entries / (rows·d) per stream; 1 before any token):
    // resident bytes by the chunk formula (caches/sparse_rows.hpp) at ρ·d·n entries per stream
    // and head (each head's own ρ, so exactly bytes() at the current size); flops 2n²·d·(ρ_k2 + ρ_v2) per head (a multiply-add per stored K2 and V2 entry
    // and row i); bytes moved = the storage, read once (K2/V2 rows are re-read for every i,
    // from cache when they fit); transient = the reducers' scratch per worker plus one partial.
    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), d = static_cast<double>(shape_.dim);
        const double n = static_cast<double>(tokens), f = sizeof(float);
        const double workers = tbb::this_task_arena::max_concurrency();
        CacheCost c;
        c.resident_bytes = factors_.expected_bytes(tokens);
        c.flops = 2.0 * n * n * d * (factors_.density(Streams::k2) + factors_.density(Streams::v2)) * h;
        c.bytes_moved = c.resident_bytes;
        const double reducer = (4 * d + kTileRows) * f + 4 * d * SparseRows::kEntryBytes;
        c.transient_bytes = workers * reducer;
        return c;
    }

private:
    void append_token(const float* k1, const float* k2, const float* v1, const float* v2) override {
        factors_.append(k1, k2, v1, v2);
    }

    void attend_query(const float* q, float* out) override {
        const std::size_t d = shape_.dim, tasks = (size() + kRowsPerTask - 1) / kRowsPerTask;
        const float scale = static_cast<float>(shape_.scale);
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            RowBlockReducer reducer(q + head * d, factors_, head, scale, transient_);
            tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, tasks), reducer);
            reducer.result().finish(out + head * d);
        });
    }

    void clear_storage() override { factors_.clear(); }

    Streams factors_;
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "sparse-factor",
    .description = "four-cache for sparse rows: K1, K2, V1, V2 as compressed rows (uint16 index + float per "
                   "non-zero); attend O(t²·s)",
    .exact = true,
    .params = {},
    .make = [](const CacheConfig&, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<SparseFactorCache>(shape);
    },
});

}  // namespace
}  // namespace trikv
