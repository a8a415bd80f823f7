// pair-logits — the strassen score variant with its query-independent term stored
// (docs/math.md §9). strassen's score is ⟨q, k1_i⟩ + ⟨q, k2_j⟩ + ⟨k1_i, k2_j⟩; the last term
// is the same for every query, so this cache keeps the n×n pair logits L_ij = ⟨k1_i, k2_j⟩
// (n² scalars per kv head, not the product cache's 2n²d) beside the four factor streams, and
// an append adds one shell of the square: row (t, j ≤ t) and column (i < t, t), 2t+1 logits
// in O(td). An attend then scores every pair in O(1) from L and the two O(nd) query terms
// (n² flops where the fused kernel spends 2n²d), but the output
// Σ_ij p_ij·(v1_i ∘ v2_j) = Σ_i v1_i ∘ (P·V2)_i still costs one n×n×d GEMM.
// factor:strategy=fused with variant=strassen is the other side of the trade-off: it
// recomputes L in O(n²d) each step and keeps O(nd) memory.
//
// L lives in shell order (caches/shell_order.hpp), like `product`'s pair rows, so an append
// only ever writes at the end.
//
//   memory  per kv head 4·(t+1)·d floats of factors + (t+1)² floats of logits (in chunks)
//   time    per query head ~4nd (query terms) + 4n² (scores, exp) + 2n²d (P·V2) + 3nd flops
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "attention/blas.hpp"
#include "attention/softmax.hpp"
#include "caches/factor_streams.hpp"
#include "caches/registry.hpp"
#include "caches/shell_order.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

constexpr std::size_t kChunkRows = 256;       // factor rows per chunk: one GEMM operand of V2
constexpr std::size_t kLogitChunk = 1 << 16;  // logits per chunk (the square grows by shells)
constexpr std::size_t kRowBlock = 64;         // rows i whose weights one attend holds at a time
using Streams = FactorStreams<float>;

class PairLogitsCache final : public Cache {
public:
    explicit PairLogitsCache(const CacheShape& shape)
        : Cache(shape), factors_(shape.kv_heads, shape.dim, kChunkRows, resident_) {
        for (std::size_t kv = 0; kv < shape.kv_heads; ++kv) logits_.emplace_back(1, kLogitChunk, resident_);
    }

    std::string spec() const override { return "pair-logits"; }
    void reserve_storage(std::size_t tokens) override {
        factors_.reserve(tokens);
        for (RowStore<float>& logits : logits_) logits.reserve(tokens * tokens);
    }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double d = static_cast<double>(shape_.dim), n = static_cast<double>(tokens), f = sizeof(float);
        CacheCost c;
        c.resident_bytes = static_cast<double>(factors_.bytes_for(tokens)) +
                           kv * static_cast<double>(logits_.front().bytes_for(tokens * tokens));
        c.flops = h * (4.0 * n * d + 4.0 * n * n + 2.0 * n * n * d + 3.0 * n * d);
        c.bytes_moved = h * (4.0 * n * d + n * n) * f;  // each query head reads its kv head's logits
        // Per concurrent query (at most one per worker): a block of weights and of U = W·V2, the
        // query terms, two d-vectors.
        const double block = static_cast<double>(std::min<std::size_t>(kRowBlock, tokens));
        const double concurrent = std::min<double>(h, worker_count());
        c.transient_bytes = concurrent * (block * (n + d + 2.0) + 2.0 * n + 2.0 * d) * f;
        return c;
    }

private:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t t, const float* k1, const float* k2, const float* v1, const float* v2) {
        factors_.append(k1, k2, v1, v2);
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t kv) {
            const RowStore<float>& K1 = factors_.store(kv, Streams::k1);
            const RowStore<float>& K2 = factors_.store(kv, Streams::k2);
            const auto logit = [&](std::size_t i, std::size_t j) {
                float s = 0;
                for (std::size_t l = 0; l < shape_.dim; ++l) s += K1.row(i)[l] * K2.row(j)[l];
                return s;
            };
            // The new shell in index order: (t, j) for j ≤ t, then (i, t) for i < t.
            for (std::size_t j = 0; j <= t; ++j) *logits_[kv].append_row() = logit(t, j);
            for (std::size_t i = 0; i < t; ++i) *logits_[kv].append_row() = logit(i, t);
        });
    }

    // Every query of the block (count tokens × heads) on its own, in parallel: with one kv head
    // and a group of 64 queries that keeps every worker busy.
    void attend_tokens(std::size_t count, const float* q, float* out) override {
        tbb::parallel_for(std::size_t(0), count * shape_.heads, [&](std::size_t query) {
            const std::size_t at = query * shape_.dim;  // token query / heads, head query % heads
            attend_one(shape_.kv_head_of(query % shape_.heads), q + at, out + at);
        });
    }

    // One query of kv head kv's group: s_ij = scale·(a_i + b_j + L_ij), a = K1·q, b = K2·q. Rows i
    // go in blocks of kRowBlock: each row's weights exp(s_ij − m_i) into a block of W, U = W·V2
    // (one GEMM per chunk of V2 rows), and Σ_i exp(m_i − M)·(v1_i ∘ u_i) folded into one
    // online softmax: scratch is O(kRowBlock·n + n + d), never the whole square.
    void attend_one(std::size_t kv, const float* q, float* out) {
        const std::size_t n = size(), d = shape_.dim;
        const float scale = static_cast<float>(shape_.scale);
        const RowStore<float>& K1 = factors_.store(kv, Streams::k1);
        const RowStore<float>& K2 = factors_.store(kv, Streams::k2);
        const RowStore<float>& V1 = factors_.store(kv, Streams::v1);
        const RowStore<float>& V2 = factors_.store(kv, Streams::v2);
        const RowStore<float>& L = logits_[kv];
        const std::size_t block = std::min(kRowBlock, n);
        Buffer<float> weights(block * n, transient_), mixed(block * d, transient_), a(n, transient_), b(n, transient_),
            row_max(block, transient_), row_sum(block, transient_), acc(d, transient_);
        SoftmaxPartial<float> result(d, transient_);
        const auto dot = [d](const float* x, const float* y) {
            float s = 0;
            for (std::size_t l = 0; l < d; ++l) s += x[l] * y[l];
            return s;
        };
        for (std::size_t i = 0; i < n; ++i) {
            a[i] = scale * dot(q, K1.row(i));
            b[i] = scale * dot(q, K2.row(i));
        }
        for (std::size_t i0 = 0; i0 < n; i0 += block) {
            const std::size_t rows = std::min(block, n - i0);
            for (std::size_t r = 0; r < rows; ++r) {
                const std::size_t i = i0 + r;
                float* w = weights.data() + r * n;
                for (std::size_t j = 0; j < n; ++j) w[j] = a[i] + b[j] + scale * *L.row(shell_index(i, j));
                row_max[r] = max_of(w, n);
                row_sum[r] = exp_shifted_sum(w, n, row_max[r]);
            }
            for (std::size_t j0 = 0; j0 < n; j0 += kChunkRows) {
                const std::size_t cols = std::min(kChunkRows, n - j0);
                blas::gemm(static_cast<int>(rows), static_cast<int>(d), static_cast<int>(cols), 1.0f,
                           weights.data() + j0, static_cast<int>(n), V2.row(j0), static_cast<int>(d),
                           /*b_transposed=*/false, j0 == 0 ? 0.0f : 1.0f, mixed.data(), static_cast<int>(d));
            }
            const float top = max_of(row_max.data(), rows);
            float norm = 0;
            std::fill_n(acc.data(), d, 0.0f);
            for (std::size_t r = 0; r < rows; ++r) {
                const float shrink = std::exp(row_max[r] - top);
                norm += shrink * row_sum[r];
                const float *v1 = V1.row(i0 + r), *u = mixed.data() + r * d;
                for (std::size_t l = 0; l < d; ++l) acc[l] += shrink * v1[l] * u[l];
            }
            result.merge(top, norm, acc.data());
        }
        result.finish(out);
    }

    void clear_storage() override {
        factors_.clear();
        for (RowStore<float>& logits : logits_) logits.clear();
    }

    Streams factors_;
    std::vector<RowStore<float>> logits_;  // per kv head: (t+1)² pair logits in shell order
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "pair-logits",
    .description = "exact strassen variant with its pair term stored: factors + n^2 logits <k1_i,k2_j> per kv head; "
                   "scores O(n^2) per step (variant=strassen only)",
    .exact = true,
    .params = {},
    .make = [](const CacheConfig&, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<PairLogitsCache>(shape);
    },
    .variants = [](const CacheConfig&) { return std::vector<ScoreVariant>{ScoreVariant::strassen}; },
});

}  // namespace
}  // namespace trikv
