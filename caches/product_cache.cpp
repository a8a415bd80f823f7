// product — the seed paper's "two-cache" (SPEC §4): stores the pair tensors K1⊘K2 and V1⊘V2
// over the causal square, so one attend is a single streaming pass over 2(t+1)²d scalars,
// the standard-attention kernel run on pair rows. The factors are kept too: appending token
// t forms its 2t+1 new pair rows from the old k1_i, k2_j (O(td) work, no recomputation).
#include <tbb/parallel_for.h>

#include <tbb/task_arena.h>

#include "attention/matrix_attention.hpp"
#include "caches/factor_streams.hpp"
#include "caches/registry.hpp"

namespace trikv {
namespace {

// Fixed chunks bound the allocation slack to one partly filled chunk per stream and head.
constexpr std::size_t kFactorChunkRows = 256;
constexpr std::size_t kPairChunkRows = 1024;

class ProductCache final : public Cache {
public:
    explicit ProductCache(const CacheShape& shape)
        : Cache(shape), factors_(shape.heads, shape.dim, kFactorChunkRows, resident_) {
        for (std::size_t head = 0; head < shape.heads; ++head) {
            pair_keys_.emplace_back(shape.dim, kPairChunkRows, resident_);
            pair_values_.emplace_back(shape.dim, kPairChunkRows, resident_);
        }
    }

    std::string spec() const override { return "product"; }

    void reserve(std::size_t tokens) override {
        factors_.reserve(tokens);
        for (std::size_t head = 0; head < shape_.heads; ++head) {
            pair_keys_[head].reserve(tokens * tokens);
            pair_values_[head].reserve(tokens * tokens);
        }
    }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), d = static_cast<double>(shape_.dim);
        const double pairs = static_cast<double>(tokens) * static_cast<double>(tokens);
        CacheCost c;
        c.resident_bytes = static_cast<double>(factors_.bytes_for(tokens) +
                                               2 * shape_.heads * pair_keys_[0].bytes_for(tokens * tokens));
        c.transient_bytes = static_cast<double>(tbb::this_task_arena::max_concurrency()) *
                            (kStreamBlockRows + 2 * shape_.dim) * sizeof(float) * h;
        c.flops = 4.0 * pairs * d * h;
        c.bytes_moved = 2.0 * pairs * d * sizeof(float) * h;
        return c;
    }

private:
    void append_token(const float* k1, const float* k2, const float* v1, const float* v2) override {
        factors_.append(k1, k2, v1, v2);
        const std::size_t t = size();  // index of the new token
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            using S = FactorStreams<float>;
            const RowStore<float>& K1 = factors_.store(head, S::k1);
            const RowStore<float>& K2 = factors_.store(head, S::k2);
            const RowStore<float>& V1 = factors_.store(head, S::v1);
            const RowStore<float>& V2 = factors_.store(head, S::v2);
            // The new shell of the square: pairs (t, j) for j ≤ t, then (i, t) for i < t.
            for (std::size_t j = 0; j <= t; ++j) add_pair(head, K1.row(t), K2.row(j), V1.row(t), V2.row(j));
            for (std::size_t i = 0; i < t; ++i) add_pair(head, K1.row(i), K2.row(t), V1.row(i), V2.row(t));
        });
    }

    void add_pair(std::size_t head, const float* k1, const float* k2, const float* v1, const float* v2) {
        float* key = pair_keys_[head].append_row();
        float* value = pair_values_[head].append_row();
        for (std::size_t l = 0; l < shape_.dim; ++l) {
            key[l] = k1[l] * k2[l];
            value[l] = v1[l] * v2[l];
        }
    }

    void attend_query(const float* q, float* out) override {
        const std::size_t d = shape_.dim;
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            matrix_decode(q + head * d, pair_keys_[head].view(), pair_values_[head].view(),
                          static_cast<float>(shape_.scale), out + head * d, transient_);
        });
    }

    void clear_storage() override {
        factors_.clear();
        for (std::size_t head = 0; head < shape_.heads; ++head) {
            pair_keys_[head].clear();
            pair_values_[head].clear();
        }
    }

    FactorStreams<float> factors_;
    std::vector<RowStore<float>> pair_keys_, pair_values_;  // per head, (t+1)² rows each
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "product",
    .description = "two-cache: stores K1⊘K2 and V1⊘V2 (2(t+1)²d floats/head); attend streams them once",
    .exact = true,
    .params = {},
    .make = [](const CacheConfig&, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<ProductCache>(shape);
    },
});

}  // namespace
}  // namespace trikv
