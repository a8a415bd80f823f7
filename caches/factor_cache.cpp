// factor — the seed paper's "four-cache" (SPEC §4): stores only K1, K2, V1, V2, 4(t+1)d
// scalars per head. Two ways to attend:
//   fused (default)  SPEC §3: reassociated, tiled GEMMs with an online softmax; never forms a
//                    (t+1)² buffer, transient memory is a few tiles per worker.
//   recompute        the seed paper's cost model: materialise K1⊘K2 and V1⊘V2 every step
//                    (O(t²d) time and transient memory), then stream them like `product`.
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "attention/matrix_attention.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/factor_streams.hpp"
#include "caches/registry.hpp"

namespace trikv {
namespace {

// One kernel tile per chunk: every K2/V2 tile is contiguous, and the allocation slack (at
// most one partly filled chunk per stream) stays small next to 4(t+1)d even at small t.
constexpr std::size_t kChunkRows = kPairTileRows;
using Streams = FactorStreams<float>;

class FactorCache final : public Cache {
public:
    FactorCache(const CacheShape& shape, bool fused)
        : Cache(shape), fused_(fused), factors_(shape.heads, shape.dim, kChunkRows, resident_) {}

    std::string spec() const override {
        return std::string("factor:strategy=") + (fused_ ? "fused" : "recompute");
    }
    void reserve(std::size_t tokens) override { factors_.reserve(tokens); }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), d = static_cast<double>(shape_.dim);
        const double n = static_cast<double>(tokens), pairs = n * n, f = sizeof(float);
        const double workers = tbb::this_task_arena::max_concurrency();
        CacheCost c;
        c.resident_bytes = static_cast<double>(factors_.bytes_for(tokens));
        c.flops = 4.0 * pairs * d * h;
        c.bytes_moved = 4.0 * n * d * f * h;
        if (fused_) {
            const double tiles = kPairBlockRows * (2 * d + kPairTileRows + 2) + 2 * d;
            c.transient_bytes = workers * tiles * f;
        } else {
            c.flops += 2.0 * pairs * d * h;             // forming the products
            c.bytes_moved += 4.0 * pairs * d * f * h;   // write them, then read them back
            c.transient_bytes = 2.0 * pairs * d * f;    // one head's products at a time
        }
        return c;
    }

private:
    void append_token(const float* k1, const float* k2, const float* v1, const float* v2) override {
        factors_.append(k1, k2, v1, v2);
    }

    void attend_query(const float* q, float* out) override {
        const float scale = static_cast<float>(shape_.scale);
        const std::size_t d = shape_.dim;
        if (fused_) {
            tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
                tensor_decode(q + head * d, factors_.view(head, Streams::k1),
                              factors_.view(head, Streams::k2), factors_.view(head, Streams::v1),
                              factors_.view(head, Streams::v2), scale, out + head * d, transient_);
            });
            return;
        }
        // One head at a time, so the transient is one head's 2(t+1)²d products.
        for (std::size_t head = 0; head < shape_.heads; ++head) attend_recomputed(head, q + head * d, out + head * d);
    }

    void attend_recomputed(std::size_t head, const float* q, float* out) {
        const std::size_t n = size(), d = shape_.dim;
        Buffer<float> keys(n * n * d, transient_), values(n * n * d, transient_);
        const RowStore<float>& K1 = factors_.store(head, Streams::k1);
        const RowStore<float>& K2 = factors_.store(head, Streams::k2);
        const RowStore<float>& V1 = factors_.store(head, Streams::v1);
        const RowStore<float>& V2 = factors_.store(head, Streams::v2);
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
        matrix_decode(q, RowsView<float>::contiguous(keys.data(), n * n, d),
                      RowsView<float>::contiguous(values.data(), n * n, d),
                      static_cast<float>(shape_.scale), out, transient_);
    }

    void clear_storage() override { factors_.clear(); }

    bool fused_;
    Streams factors_;
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "factor",
    .description = "four-cache: stores K1, K2, V1, V2 (4(t+1)d floats/head); attend fused (SPEC §3) or recomputes the products",
    .exact = true,
    .params = {{.name = "strategy",
                .default_value = "fused",
                .description = "fused: tiled reassociated GEMMs, O(tile) scratch; recompute: materialise the products each step",
                .choices = {"fused", "recompute"}}},
    .make = [](const CacheConfig& config, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<FactorCache>(shape, config.text("strategy") == "fused");
    },
});

}  // namespace
}  // namespace trikv
