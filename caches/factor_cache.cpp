// factor — the seed paper's "four-cache" (docs/math.md §4): stores only K1, K2, V1, V2, 4(t+1)d
// scalars per head. Two ways to attend:
//   fused (default)  docs/math.md §3: reassociated, tiled GEMMs with an online softmax; never forms a
//                    (t+1)² buffer, transient memory is a few tiles per worker.
//   recompute        the seed paper's cost model: materialise K1⊘K2 and V1⊘V2 every step
//                    (O(t²d) time and transient memory), then stream them like `product`.
// dtype (f32 | bf16 | fp16 | int8) is the storage of the four streams; attend decodes rows
// and tiles to float as it goes (fused) or the whole head's streams once (recompute).
// Streams are kept per kv head; the g query heads of a group are served by one kernel call.
//
// Score variants (docs/math.md §9): rank1 takes its exact O(nd) path whatever the strategy —
// its pair weights factorise, exp(a_i + b_j) = exp(a_i)·exp(b_j), so the output is
// attention(q; K1, V1) ∘ attention(q; K2, V2), two standard attentions over the streams this
// cache already keeps. strassen runs the fused kernel (fused only): the recompute side of
// strassen's trade-off, pair logits ⟨k1_i, k2_j⟩ recomputed in O(n²d), against the
// `strassen` cache that keeps them. recompute refuses strassen: its materialised product keys
// have no place for the query-independent pair term.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>

#include "attention/matrix_attention.hpp"
#include "attention/pair_tile_bf16.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/factor_streams.hpp"
#include "caches/head_queries.hpp"
#include "caches/budget.hpp"
#include "caches/registry.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

// One kernel tile per chunk: every K2/V2 tile is contiguous, and the allocation slack (at
// most one partly filled chunk per stream) stays small next to 4(t+1)d even at small t.
constexpr std::size_t kChunkRows = kPairTileRows;

template <class S>  // storage of the four streams (framework/storage.hpp)
class FactorCache final : public Cache {
    using Streams = FactorStreams<S>;
    static constexpr bool kDecodes = !std::is_same_v<S, float>;

public:
    FactorCache(const CacheShape& shape, bool fused)
        : Cache(shape), fused_(fused), factors_(shape.kv_heads, shape.dim, kChunkRows, resident_) {}

    std::string spec() const override {
        return std::string("factor:strategy=") + (fused_ ? "fused" : "recompute") + ",dtype=" + dtype_name(dtype_of<S>());
    }
    void reserve_storage(std::size_t tokens) override { factors_.reserve(tokens); }

    CacheCost cost(std::size_t tokens) const override {
        // Flops follow the query heads; storage and the bytes streamed follow the kv heads (a
        // group's queries share one pass).
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double d = static_cast<double>(shape_.dim);
        const double n = static_cast<double>(tokens), pairs = n * n, f = sizeof(float);
        const double workers = worker_count();
        CacheCost c;
        c.resident_bytes = static_cast<double>(factors_.bytes_for(tokens));
        if (shape_.variant == ScoreVariant::rank1) {
            // Two standard attentions per query head; a group streams the four streams once.
            c.flops = 2.0 * 4.0 * n * d * h;
            c.bytes_moved = 4.0 * n * static_cast<double>(stored_row_bytes<S>(shape_.dim)) * kv;
            c.transient_bytes = static_cast<double>(shape_.group_size()) * d * f * kv;
            return c;
        }
        c.flops = 4.0 * pairs * d * h;
        c.bytes_moved = 4.0 * n * static_cast<double>(stored_row_bytes<S>(shape_.dim)) * kv;
        if (fused_) {
            double tiles = kPairBlockRows * (2 * d + kPairTileRows + 2) + 2 * d;
            if (kDecodes) tiles += 2 * kPairTileRows * d;  // decoded K2/V2 tiles (a block's K1/V1 rows reuse them)
            // bf16 dot products (attention/pair_tile_bf16.hpp): the low part of P, 32-bit pairs.
            if (std::is_same_v<S, bf16> && pair_tile_bf16::available()) tiles += kPairBlockRows * kPairTileRows / 2.0;
            c.transient_bytes = workers * tiles * f;
        } else {
            c.flops += 2.0 * pairs * d * kv;            // forming the products, once per kv head
            c.bytes_moved += 4.0 * pairs * d * f * kv;  // write them, then read them back
            c.transient_bytes = 2.0 * pairs * d * f;    // one kv head's products at a time
            if (kDecodes) c.transient_bytes += 4.0 * n * d * f;  // and its decoded streams
        }
        return c;
    }

private:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t, auto... rows) { factors_.append(rows...); });
    }

    // A block of queries (VAR's scale step) and the query heads of a kv head's group: fused
    // runs them all as one batched kernel per kv head (stacked GEMMs,
    // attention/tensor_attention.hpp); recompute forms each kv head's products once for all.
    void attend_tokens(std::size_t count, const float* q, float* out) override {
        if (shape_.variant == ScoreVariant::rank1) {
            tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t kv) {
                HeadQueries queries(count, kv, shape_, transient_);
                queries.gather(q);
                attend_factorised(kv, queries.rows(), queries.in.data(), queries.out.data());
                queries.scatter(out);
            });
            return;
        }
        if (!fused_) {
            // One kv head at a time, so the transient is one head's 2(t+1)²d products.
            for (std::size_t kv = 0; kv < shape_.kv_heads; ++kv) attend_recomputed(kv, count, q, out);
            return;
        }
        const float scale = static_cast<float>(shape_.scale);
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t kv) {
            const auto stream = [&](typename Streams::Stream s) { return factors_.stored(kv, s); };
            if (count == 1) {  // the group's queries are contiguous already: no gather
                const std::size_t first = HeadQueries::first_row(kv, shape_);
                tensor_decode(shape_.group_size(), q + first, stream(Streams::k1), stream(Streams::k2),
                              stream(Streams::v1), stream(Streams::v2), scale, out + first, transient_, shape_.variant);
                return;
            }
            HeadQueries queries(count, kv, shape_, transient_);
            queries.gather(q);
            tensor_decode(queries.rows(), queries.in.data(), stream(Streams::k1), stream(Streams::k2),
                          stream(Streams::v1), stream(Streams::v2), scale, queries.out.data(), transient_,
                          shape_.variant);
            queries.scatter(out);
        });
    }

    // rank1, exactly in O(nd): out[r] = attention(q_r; K1, V1) ∘ attention(q_r; K2, V2) for the
    // `rows` queries of kv head kv.
    void attend_factorised(std::size_t kv, std::size_t rows, const float* q, float* out) {
        const float scale = static_cast<float>(shape_.scale);
        Buffer<float> second(rows * shape_.dim, transient_);
        matrix_decode(rows, q, factors_.stored(kv, Streams::k1), factors_.stored(kv, Streams::v1), scale, out,
                      transient_);
        matrix_decode(rows, q, factors_.stored(kv, Streams::k2), factors_.stored(kv, Streams::v2), scale,
                      second.data(), transient_);
        for (std::size_t i = 0; i < second.size(); ++i) out[i] *= second[i];
    }

    // Stream s of `head` as float rows: the storage itself for f32, else decoded into `scratch`.
    RowsView<float> float_rows(std::size_t head, typename Streams::Stream s, Buffer<float>& scratch) {
        if constexpr (kDecodes) {
            const std::size_t n = size(), d = shape_.dim;
            scratch = Buffer<float>(n * d, transient_);
            factors_.stored(head, s).decode(0, n, scratch.data());
            return RowsView<float>::contiguous(scratch.data(), n, d);
        } else {
            (void)scratch;
            return factors_.view(head, s);
        }
    }

    // Every query of kv head `head`'s group against its products.
    void attend_recomputed(std::size_t head, std::size_t count, const float* q, float* out) {
        const std::size_t n = size(), d = shape_.dim;
        Buffer<float> decoded[4];
        const RowsView<float> K1 = float_rows(head, Streams::k1, decoded[0]);
        const RowsView<float> K2 = float_rows(head, Streams::k2, decoded[1]);
        const RowsView<float> V1 = float_rows(head, Streams::v1, decoded[2]);
        const RowsView<float> V2 = float_rows(head, Streams::v2, decoded[3]);
        Buffer<float> keys(n * n * d, transient_), values(n * n * d, transient_);
        tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
            for (std::size_t j = 0; j < n; ++j) {
                float* key = keys.data() + (i * n + j) * d;
                float* value = values.data() + (i * n + j) * d;
                const float *k1 = K1.row(i), *k2 = K2.row(j), *v1 = V1.row(i), *v2 = V2.row(j);
                for (std::size_t l = 0; l < d; ++l) {
                    key[l] = k1[l] * k2[l];
                    value[l] = v1[l] * v2[l];
                }
            }
        });
        HeadQueries queries(count, head, shape_, transient_);
        queries.gather(q);
        matrix_decode(queries.rows(), queries.in.data(), StoredRows<float>::contiguous(keys.data(), n * n, d),
                      StoredRows<float>::contiguous(values.data(), n * n, d), static_cast<float>(shape_.scale),
                      queries.out.data(), transient_);
        queries.scatter(out);
    }

    void clear_storage() override { factors_.clear(); }

    bool fused_;
    Streams factors_;
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "factor",
    .description = "four-cache: stores K1, K2, V1, V2 (4(t+1)d scalars/head); attend fused (docs/math.md §3) or recomputes the products",
    .exact = true,
    .exact_when = exact_in_float32,
    .params = {{.name = "strategy",
                .default_value = "fused",
                .description = "fused: tiled reassociated GEMMs, O(tile) scratch; recompute: materialise the products each step",
                .choices = {"fused", "recompute"}},
               {.name = "dtype",
                .default_value = "f32",
                .description = "storage of the four streams: f32, bf16, fp16 or int8 (per-row float scale)",
                .choices = dtype_names()}},
    .make = [](const CacheConfig& config, const CacheShape& shape) {
        const bool fused = config.text("strategy") == "fused";
        return with_dtype(config.text("dtype"), [&]<class S>(S) -> std::unique_ptr<Cache> {
            return std::make_unique<FactorCache<S>>(shape, fused);
        });
    },
    .variants = [](const CacheConfig& config) {
        return config.text("strategy") == "fused"
                   ? all_variants(config)
                   : std::vector<ScoreVariant>{ScoreVariant::trilinear, ScoreVariant::rank1};
    },
    .accuracy_ladder = reduced_storage_ladder,
});

}  // namespace
}  // namespace trikv
