// product — the seed paper's "two-cache" (docs/math.md §4): stores the pair tensors K1⊘K2 and V1⊘V2
// over the causal square, so one attend is a single streaming pass over 2(t+1)²d scalars,
// the standard-attention kernel run on pair rows. The factors are kept too: appending token
// t forms its 2t+1 new pair rows from the old k1_i, k2_j (O(td) work, no recomputation).
//
// dtype (f32 | bf16 | fp16 | int8) is the storage of the pair rows, the O(t²d) part. The four
// factor streams stay float32 whatever the dtype: they only serve to form new pair rows, so
// each pair element is computed exactly as k1_il·k2_jl in float and rounded once to the
// dtype; storing the factors reduced too would round twice (factor, then product) for a
// saving of O(td) bytes next to the pairs' O(t²d).
//
// The pair keys and values of a head share one PairedRowStore: tiles of kStreamTileRows key
// rows and the same value rows back to back, the order the streaming kernel reads them in.
#include <tbb/parallel_for.h>


#include <cstdint>
#include <vector>

#include "attention/matrix_attention.hpp"
#include "caches/factor_streams.hpp"
#include "caches/head_queries.hpp"
#include "caches/paired_row_store.hpp"
#include "caches/budget.hpp"
#include "caches/registry.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

// Fixed chunks bound the allocation slack to one partly filled chunk (slab) per stream and head.
constexpr std::size_t kFactorChunkRows = 256;
constexpr std::size_t kPairSlabTiles = 4;  // slabs of 4 tiles = 1024 pair rows

template <class S>  // storage of the pair rows (framework/storage.hpp)
class ProductCache final : public Cache {
public:
    explicit ProductCache(const CacheShape& shape)
        : Cache(shape), factors_(shape.kv_heads, shape.dim, kFactorChunkRows, resident_) {
        for (std::size_t head = 0; head < shape.kv_heads; ++head)
            pairs_.emplace_back(shape.dim, kStreamTileRows, kPairSlabTiles, resident_);
    }

    std::string spec() const override { return std::string("product:dtype=") + dtype_name(dtype_of<S>()); }

    void reserve_storage(std::size_t tokens) override {
        factors_.reserve(tokens);
        for (PairedRowStore<S>& pairs : pairs_) pairs.reserve(tokens * tokens);
    }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double d = static_cast<double>(shape_.dim);
        const double pairs = static_cast<double>(tokens) * static_cast<double>(tokens);
        // Per reducer: a tile of scores and two d-vectors of accumulators; reduced dtypes are
        // read as stored (attention/stream_tile_kernels.hpp), no decoded tiles.
        CacheCost c;
        // In double: kv_heads times a kv head's pair bytes may pass 64 bits (heads and d at their bounds).
        c.resident_bytes = static_cast<double>(factors_.bytes_for(tokens)) +
                           kv * static_cast<double>(pairs_[0].bytes_for(tokens * tokens));
        c.transient_bytes = static_cast<double>(worker_count()) *
                            (kStreamTileRows + 2 * d) * sizeof(float) * kv;
        c.flops = 4.0 * pairs * d * h;
        // A group's queries share one pass over its kv head's pair rows.
        c.bytes_moved = 2.0 * pairs * static_cast<double>(stored_row_bytes<S>(shape_.dim)) * kv;
        return c;
    }

private:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t t, const float* k1, const float* k2, const float* v1, const float* v2) {
        factors_.append(k1, k2, v1, v2);
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t head) {
            using F = FactorStreams<float>;
            const RowStore<float>& K1 = factors_.store(head, F::k1);
            const RowStore<float>& K2 = factors_.store(head, F::k2);
            const RowStore<float>& V1 = factors_.store(head, F::v1);
            const RowStore<float>& V2 = factors_.store(head, F::v2);
            // A reduced dtype forms each pair row in float here, then encodes it.
            std::vector<float> staging(std::is_same_v<S, float> ? 0 : shape_.dim);
            // The new shell of the square: pairs (t, j) for j ≤ t, then (i, t) for i < t.
            for (std::size_t j = 0; j <= t; ++j)
                add_pair(pairs_[head], K1.row(t), K2.row(j), V1.row(t), V2.row(j), staging.data());
            for (std::size_t i = 0; i < t; ++i)
                add_pair(pairs_[head], K1.row(i), K2.row(t), V1.row(i), V2.row(t), staging.data());
        });
    }

    void add_pair(PairedRowStore<S>& pairs, const float* k1, const float* k2, const float* v1, const float* v2,
                  float* staging) const {
        const std::size_t d = shape_.dim;
        pairs.append_with([&](float* key) { for (std::size_t l = 0; l < d; ++l) key[l] = k1[l] * k2[l]; },
                          [&](float* value) { for (std::size_t l = 0; l < d; ++l) value[l] = v1[l] * v2[l]; },
                          staging);
    }

    // One token's queries: a kv head's g query heads are contiguous, one call.
    void attend_one(const float* q, float* out) {
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t kv) {
            const std::size_t first = HeadQueries::first_row(kv, shape_);
            matrix_decode(shape_.group_size(), q + first, pairs_[kv].first(), pairs_[kv].second(),
                          static_cast<float>(shape_.scale), out + first, transient_);
        });
    }

    // A block of queries (VAR's scale step) and a kv head's query heads stream the pair rows
    // once per group of up to 256 queries, as GEMMs (matrix_decode of `count` queries),
    // instead of once per query.
    void attend_tokens(std::size_t count, const float* q, float* out) override {
        if (count == 1) return attend_one(q, out);
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t kv) {
            HeadQueries queries(count, kv, shape_, transient_);
            queries.gather(q);
            matrix_decode(queries.rows(), queries.in.data(), pairs_[kv].first(), pairs_[kv].second(),
                          static_cast<float>(shape_.scale), queries.out.data(), transient_);
            queries.scatter(out);
        });
    }

    void clear_storage() override {
        factors_.clear();
        for (PairedRowStore<S>& pairs : pairs_) pairs.clear();
    }

    FactorStreams<float> factors_;                      // float32 whatever the dtype (above)
    std::vector<PairedRowStore<S>> pairs_;  // per kv head: (t+1)² key rows and value rows
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "product",
    .description = "two-cache: stores K1⊘K2 and V1⊘V2 (2(t+1)²d scalars/head); attend streams them once",
    .exact = true,
    .exact_when = exact_in_float32,
    .params = {{.name = "dtype",
                .default_value = "f32",
                .description = "storage of the pair rows: f32, bf16, fp16 or int8 (per-row float scale); "
                               "the factors stay f32",
                .choices = dtype_names()}},
    .make = [](const CacheConfig& config, const CacheShape& shape) {
        return with_dtype(config.text("dtype"), [&]<class S>(S) -> std::unique_ptr<Cache> {
            return std::make_unique<ProductCache<S>>(shape);
        });
    },
    .accuracy_ladder = reduced_storage_ladder,
});

}  // namespace
}  // namespace trikv
