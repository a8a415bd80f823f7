// sparse-product — the two-cache (product) for sparse keys and values: stores, for every pair
// (i, j) of the causal square, only the non-zeros of k1_i ∘ k2_j and of v1_i ∘ v2_j as
// compressed rows (caches/sparse_rows.hpp). The support of k1_i ∘ k2_j is the intersection of
// supp k1_i and supp k2_j — every index in it is stored, even where the product of two floats
// underflows to zero, so the bytes follow from the supports alone. For independent random
// supports of s non-zeros in d, a pair row holds s²/d entries on average (likewise for
// block-aligned supports when s divides d): 2(t+1)²·(6s²/d + 2) bytes per head instead of
// product's 2(t+1)²·4d.
//
// The factors are kept compressed too (caches/sparse_factor_streams.hpp) to form each new
// token's 2t+1 pair rows: the new token's rows arrive dense, so each pair row walks the stored
// row's entries and keeps those where the dense one is non-zero (O(s) per pair row, indices
// stay ascending). Attend streams the pair rows once, like product: scores by gathering q at
// the stored indices, an online softmax per tile, values scattered into a dense accumulator.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <vector>

#include "attention/softmax.hpp"
#include "caches/registry.hpp"
#include "caches/sparse_factor_streams.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

constexpr std::size_t kFactorEntryChunk = 1024;
constexpr std::size_t kFactorRowChunk = 256;
constexpr std::size_t kPairEntryChunk = 16384;  // 96 KiB per chunk
constexpr std::size_t kPairRowChunk = 4096;     // pair rows per count chunk, and per parallel task
constexpr std::size_t kTileRows = 256;          // pair rows scored before one exponential pass

using Streams = SparseFactorStreams;

// Folds blocks of pair rows (one count chunk each) into a partial softmax.
class PairStreamReducer {
public:
    PairStreamReducer(const float* q, const SparseRows& keys, const SparseRows& values, float scale,
                      MemoryMeter& scratch)
        : q_(q), keys_(keys), values_(values), scale_(scale), meter_(scratch), result_(keys.dim(), scratch),
          tile_acc_(keys.dim(), scratch), scores_(kTileRows, scratch), key_reader_(keys, scratch),
          value_reader_(values, scratch) {}
    PairStreamReducer(PairStreamReducer& other, tbb::split)
        : PairStreamReducer(other.q_, other.keys_, other.values_, other.scale_, other.meter_) {}

    void operator()(const tbb::blocked_range<std::size_t>& blocks) {
        for (std::size_t block = blocks.begin(); block != blocks.end(); ++block) {
            const std::size_t begin = block * kPairRowChunk, end = std::min(keys_.rows(), begin + kPairRowChunk);
            key_reader_.seek(begin);
            value_reader_.seek(begin);
            for (std::size_t r = begin; r < end; r += kTileRows) fold_tile(std::min(kTileRows, end - r));
        }
    }
    void join(const PairStreamReducer& other) { result_.merge(other.result_); }
    const SoftmaxPartial<float>& result() const { return result_; }

private:
    void fold_tile(std::size_t rows) {
        float* s = scores_.data();
        float* score = s;
        key_reader_.visit(rows, [&](const SparseRow& key) {
            float dot = 0;
            for (std::size_t e = 0; e < key.count; ++e) dot += q_[key.index[e]] * key.value[e];
            *score++ = scale_ * dot;
        });
        const float top = max_of(s, rows);
        const float norm = exp_shifted_sum(s, rows, top);
        float* acc = tile_acc_.data();
        std::fill_n(acc, tile_acc_.size(), 0.0f);
        const float* p = s;
        value_reader_.visit(rows, [&](const SparseRow& value) {
            for (std::size_t e = 0; e < value.count; ++e) acc[value.index[e]] += *p * value.value[e];
            ++p;
        });
        result_.merge(top, norm, acc);
    }

    const float* q_;
    const SparseRows &keys_, &values_;
    float scale_;
    MemoryMeter& meter_;
    SoftmaxPartial<float> result_;
    Buffer<float> tile_acc_, scores_;
    SparseRows::Reader key_reader_, value_reader_;
};

class SparseProductCache final : public Cache {
public:
    explicit SparseProductCache(const CacheShape& shape)
        : Cache(shape), factors_(shape.kv_heads, shape.dim, kFactorEntryChunk, kFactorRowChunk, resident_) {
        for (std::size_t head = 0; head < shape.kv_heads; ++head) {
            pair_keys_.emplace_back(shape.dim, kPairEntryChunk, kPairRowChunk, resident_);
            pair_values_.emplace_back(shape.dim, kPairEntryChunk, kPairRowChunk, resident_);
        }
    }

    std::string spec() const override { return "sparse-product"; }

    // Only the per-row counts can be allocated ahead: the entries depend on the data.
    void reserve_storage(std::size_t tokens) override {
        factors_.reserve_rows(tokens);
        for (std::size_t head = 0; head < shape_.kv_heads; ++head) {
            pair_keys_[head].reserve_rows(tokens * tokens);
            pair_values_[head].reserve_rows(tokens * tokens);
        }
    }

    // Pair densities ρ_k, ρ_v (stored entries / (pair rows·d)) as observed, per head; before
    // any pair, the product of the factor densities (independent supports); 1 before any token.
    // Then: resident bytes = the factors' plus the chunk formula at n² pair rows holding ρ·d·n²
    // entries per pair stream and kv head (exactly bytes() at the current size); flops
    // 2n²·d·(ρ_k + ρ_v) per query head; bytes moved = the pair streams, read once per query
    // head; transient = one reducer's scratch per worker.
    CacheCost cost(std::size_t tokens) const override {
        const double d = static_cast<double>(shape_.dim);
        const std::size_t pairs = tokens * tokens;
        const double group = static_cast<double>(shape_.group_size());
        CacheCost c;
        double pair_bytes = 0;
        for (std::size_t head = 0; head < shape_.kv_heads; ++head) {
            const double key_density = pair_density(head, pair_keys_[head], Streams::k1, Streams::k2);
            const double value_density = pair_density(head, pair_values_[head], Streams::v1, Streams::v2);
            for (const double density : {key_density, value_density})
                pair_bytes += double(pair_keys_[head].bytes_for(pairs, factors_.expected_entries(density, pairs)));
            c.flops += 2.0 * double(pairs) * d * (key_density + value_density) * group;
        }
        c.bytes_moved = pair_bytes * group;
        c.resident_bytes = factors_.expected_bytes(tokens) + pair_bytes;
        const double reducer = (2 * d + kTileRows) * sizeof(float) + 2 * d * SparseRows::kEntryBytes;
        c.transient_bytes = worker_count() * reducer;
        return c;
    }

private:
    double pair_density(std::size_t head, const SparseRows& pairs, Streams::Stream a, Streams::Stream b) const {
        if (pairs.rows() > 0) return double(pairs.entries()) / (double(pairs.rows()) * double(shape_.dim));
        return factors_.density(head, a) * factors_.density(head, b);
    }

    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t t, const float* k1, const float* k2, const float* v1, const float* v2) {
        factors_.append(k1, k2, v1, v2);
        const std::size_t d = shape_.dim;
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t head) {
            const float *k1_t = k1 + head * d, *k2_t = k2 + head * d, *v1_t = v1 + head * d, *v2_t = v2 + head * d;
            SparseRows::Reader K1(factors_.store(head, Streams::k1), transient_);
            SparseRows::Reader K2(factors_.store(head, Streams::k2), transient_);
            SparseRows::Reader V1(factors_.store(head, Streams::v1), transient_);
            SparseRows::Reader V2(factors_.store(head, Streams::v2), transient_);
            // The new shell of the square: pairs (t, j) for j ≤ t, then (i, t) for i < t.
            K2.seek(0);
            V2.seek(0);
            for (std::size_t j = 0; j <= t; ++j) {
                add_pair_row(pair_keys_[head], k1_t, K2.next());
                add_pair_row(pair_values_[head], v1_t, V2.next());
            }
            K1.seek(0);
            V1.seek(0);
            for (std::size_t i = 0; i < t; ++i) {
                add_pair_row(pair_keys_[head], k2_t, K1.next());
                add_pair_row(pair_values_[head], v2_t, V1.next());
            }
        });
    }

    // Appends dense ∘ stored, over supp(dense) ∩ supp(stored), in the stored row's index order.
    static void add_pair_row(SparseRows& pairs, const float* dense, const SparseRow& stored) {
        for (std::size_t e = 0; e < stored.count; ++e) {
            const float x = dense[stored.index[e]];
            if (x != 0.0f) pairs.push(stored.index[e], x * stored.value[e]);
        }
        pairs.end_row();
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    void attend_one(const float* q, float* out) {
        const std::size_t d = shape_.dim;
        const float scale = static_cast<float>(shape_.scale);
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            const std::size_t kv = shape_.kv_head_of(head);
            const SparseRows& keys = pair_keys_[kv];
            PairStreamReducer reducer(q + head * d, keys, pair_values_[kv], scale, transient_);
            const std::size_t blocks = (keys.rows() + kPairRowChunk - 1) / kPairRowChunk;
            tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, blocks), reducer);
            reducer.result().finish(out + head * d);
        });
    }

    void clear_storage() override {
        factors_.clear();
        for (std::size_t head = 0; head < shape_.kv_heads; ++head) {
            pair_keys_[head].clear();
            pair_values_[head].clear();
        }
    }

    Streams factors_;
    std::vector<SparseRows> pair_keys_, pair_values_;  // per kv head, (t+1)² rows each
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "sparse-product",
    .description = "two-cache for sparse rows: only the non-zeros of K1⊘K2 and V1⊘V2 (supports intersected), "
                   "streamed once per attend",
    .exact = true,
    .params = {},
    .make = [](const CacheConfig&, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<SparseProductCache>(shape);
    },
});

}  // namespace
}  // namespace trikv
