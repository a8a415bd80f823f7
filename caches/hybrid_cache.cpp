// hybrid — exact tensor attention from the factors of every token plus the stored products of
// the recent ones: the pairs (i, j) among the last w tokens (the w×w square) are kept as
// product rows k1_i∘k2_j, v1_i∘v2_j, like `product`; every other pair is recomputed by the
// fused factor kernel, like `factor`. w = 0 is `factor`, w ≥ n is `product`; in between it
// trades 2w²d floats per head for streaming the recent square instead of recomputing it.
//
// One attend at step t (n = t+1 tokens, r = min(n, w) recent ones starting at s = n − r):
//     [0, n)² = [s, n)²                  stored pair rows, matrix_decode_partial
//             ∪ [0, s) × [0, n)          factors, tensor_decode_partial
//             ∪ [s, n) × [0, s)          factors, tensor_decode_partial
// three disjoint sets folded into one softmax partial (log-sum-exp merge), then normalised.
//
// The square is indexed by ring slots: token i sits in slot i mod w, and the pair of slots
// (a, b) lives in row shell_index(a, b) = m² + (a == m ? b : m + 1 + a), m = max(a, b) — the shell
// order in which `product` appends. While the window fills (n ≤ w) token t's shell is just
// appended (slot t, rows t²…(t+1)²−1); afterwards the arriving token takes the slot of the
// one leaving, and only that slot's row and column, 2w−1 pair rows, are rewritten: O(wd) per
// append. Live rows are always [0, r²), one chunked view.
//
//   memory  h·(4·⌈n/256⌉·256 + 2·⌈r²/w⌉·w)·d floats  (pair rows in w-row chunks, so exactly
//           factor memory + 2w²d per head once n ≥ w; no pair storage at all when w = 0)
//   time    ~4n²d flops per head and step (every pair once), streaming 2r²d stored floats and
//           4n + 2s factor rows (4n when w = 0, none when s = 0); O(wd) per append.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <string>
#include <vector>

#include "attention/matrix_attention.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/factor_streams.hpp"
#include "caches/registry.hpp"
#include "caches/shell_order.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

using Streams = FactorStreams<float>;

class HybridCache final : public Cache {
public:
    HybridCache(const CacheShape& shape, std::size_t window)
        : Cache(shape), window_(window), factors_(shape.kv_heads, shape.dim, kPairTileRows, resident_) {
        if (window_ == 0) return;  // pure factor: no square
        for (std::size_t head = 0; head < shape.kv_heads; ++head) {
            pair_keys_.emplace_back(shape.dim, window_, resident_);
            pair_values_.emplace_back(shape.dim, window_, resident_);
        }
    }

    std::string spec() const override { return "hybrid:window=" + std::to_string(window_); }

    void reserve_storage(std::size_t tokens) override {
        factors_.reserve(tokens);
        const std::size_t r = std::min(tokens, window_);
        for (RowStore<float>& store : pair_keys_) store.reserve(r * r);
        for (RowStore<float>& store : pair_values_) store.reserve(r * r);
    }

    CacheCost cost(std::size_t tokens) const override {
        // Storage per kv head; every query head runs its own pass (flops, bytes moved).
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double d = static_cast<double>(shape_.dim), f = sizeof(float);
        const std::size_t r = std::min(tokens, window_), s = tokens - r;
        const double n = static_cast<double>(tokens), workers = worker_count();
        const double square = static_cast<double>(r) * static_cast<double>(r);
        CacheCost c;
        c.resident_bytes = static_cast<double>(factors_.bytes_for(tokens));
        if (window_ > 0) c.resident_bytes += 2.0 * kv * static_cast<double>(pair_keys_[0].bytes_for(r * r));
        c.flops = 4.0 * n * n * d * h;  // ~4d per pair, stored or recomputed
        // The square streams once; the two rectangles read K1,V1 [0,s) + K2,V2 [0,n) and
        // K1,V1 [s,n) + K2,V2 [0,s) (each only if it holds pairs).
        const double rs = static_cast<double>(r), ss = static_cast<double>(s);
        const double factor_rows = (s > 0 ? 2.0 * ss + 2.0 * n : 0.0) + (s > 0 && r > 0 ? 2.0 * rs + 2.0 * ss : 0.0);
        c.bytes_moved = (2.0 * square + factor_rows) * d * f * h;
        // One tensor-kernel tile set or one streaming set per worker, plus a partial per head.
        const double tensor_tiles = kPairBlockRows * (2 * d + kPairTileRows + 2) + 2 * d;
        const double stream_tiles = kStreamTileRows + 2 * d;  // a score tile, a block and a worker partial
        c.transient_bytes = (workers * std::max(tensor_tiles, stream_tiles) + h * d) * f;
        return c;
    }

private:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t t, const float* k1, const float* k2, const float* v1, const float* v2) {
        factors_.append(k1, k2, v1, v2);
        if (window_ == 0) return;
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t head) { update_square(head, t); });
    }

    // Writes the pairs of the newest token t with every token in the window: slot a's row
    // (t, j) and column (i, t) of the square.
    void update_square(std::size_t head, std::size_t t) {
        const std::size_t w = window_, a = t % w, r = std::min(t + 1, w);
        const RowStore<float>& K1 = factors_.store(head, Streams::k1);
        const RowStore<float>& K2 = factors_.store(head, Streams::k2);
        const RowStore<float>& V1 = factors_.store(head, Streams::v1);
        const RowStore<float>& V2 = factors_.store(head, Streams::v2);
        const auto token_in = [&](std::size_t b) { return t - (a + w - b) % w; };  // slot b's token
        for (std::size_t b = 0; b < r; ++b) write_pair(head, shell_index(a, b), t, token_in(b), K1, K2, V1, V2);
        for (std::size_t b = 0; b < r; ++b)
            if (b != a) write_pair(head, shell_index(b, a), token_in(b), t, K1, K2, V1, V2);
    }

    void write_pair(std::size_t head, std::size_t row, std::size_t i, std::size_t j, const RowStore<float>& K1,
                    const RowStore<float>& K2, const RowStore<float>& V1, const RowStore<float>& V2) {
        float* key = slot(pair_keys_[head], row);
        float* value = slot(pair_values_[head], row);
        const float *k1 = K1.row(i), *k2 = K2.row(j), *v1 = V1.row(i), *v2 = V2.row(j);
        for (std::size_t l = 0; l < shape_.dim; ++l) {
            key[l] = k1[l] * k2[l];
            value[l] = v1[l] * v2[l];
        }
    }

    // Row `row` of a pair store: the next one while the window fills (rows come in shell
    // order), an existing one to overwrite afterwards.
    static float* slot(RowStore<float>& store, std::size_t row) {
        return row == store.rows() ? store.append_row() : store.row(row);
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    void attend_one(const float* q, float* out) {
        const std::size_t n = size(), r = std::min(n, window_), s = n - r, d = shape_.dim;
        const float scale = static_cast<float>(shape_.scale);
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            const float* query = q + head * d;
            const std::size_t kv = shape_.kv_head_of(head);
            SoftmaxPartial<float> partial(d, transient_);
            if (r > 0)
                matrix_decode_partial(query, pair_keys_[kv].stored(), pair_values_[kv].stored(), scale, partial,
                                      transient_);
            const StoredRows<float> K1 = factors_.stored(kv, Streams::k1), K2 = factors_.stored(kv, Streams::k2);
            const StoredRows<float> V1 = factors_.stored(kv, Streams::v1), V2 = factors_.stored(kv, Streams::v2);
            // Empty rectangles (s = 0, or r = 0 for the second) fold nothing.
            tensor_decode_partial(query, K1.prefix(s), K2, V1.prefix(s), V2, scale, partial, transient_);
            tensor_decode_partial(query, K1.rows_from(s, r), K2.prefix(s), V1.rows_from(s, r), V2.prefix(s), scale,
                                  partial, transient_);
            partial.finish(out + head * d);
        });
    }

    void clear_storage() override {
        factors_.clear();
        for (RowStore<float>& store : pair_keys_) store.clear();
        for (RowStore<float>& store : pair_values_) store.clear();
    }

    std::size_t window_;
    Streams factors_;
    std::vector<RowStore<float>> pair_keys_, pair_values_;  // per kv head, r² rows in w-row chunks
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "hybrid",
    .description = "exact: factors of all tokens + stored products of the last w tokens' w×w square (w=0: factor, w>=n: product)",
    .exact = true,
    .params = {{.name = "window", .default_value = "64", .description = "recent tokens whose pairs are stored as products",
                .choices = {}, .min = 0, .max = 1 << 16, .integer = true}},
    .make = [](const CacheConfig& config, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<HybridCache>(shape, static_cast<std::size_t>(config.integer("window")));
    },
});

}  // namespace
}  // namespace trikv
