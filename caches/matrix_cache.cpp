// matrix — standard attention's KV cache, the baseline beside the tensor caches (docs/math.md §2, last
// paragraph): keys k1 and values v1 of each token (k2, v2 are ignored), 2(t+1)d scalars per
// head, attend s_i = scale·⟨q, k1_i⟩, o = Σ p_i v1_i with the streaming kernel of
// attention/matrix_attention. Lets a study put tensor attention's costs next to the ones a
// transformer already pays, on the same tokens (decode and var workloads). With grouped heads
// it keeps the kv heads only and serves a group's g query heads as one stacked matrix_decode,
// as a GQA transformer does. Its score has no k2, so it declares trilinear only (the default):
// one baseline point per study configuration, not one per tensor variant.
#include <tbb/parallel_for.h>

#include <vector>

#include "attention/matrix_attention.hpp"
#include "caches/head_queries.hpp"
#include "caches/registry.hpp"
#include "caches/row_store.hpp"

namespace trikv {
namespace {

constexpr std::size_t kChunkRows = 256;

class MatrixCache final : public Cache {
public:
    explicit MatrixCache(const CacheShape& shape) : Cache(shape) {
        for (std::size_t head = 0; head < shape.kv_heads; ++head) {
            keys_.emplace_back(shape.dim, kChunkRows, resident_);
            values_.emplace_back(shape.dim, kChunkRows, resident_);
        }
    }

    std::string spec() const override { return "matrix"; }
    void reserve_storage(std::size_t tokens) override {
        for (std::size_t head = 0; head < shape_.kv_heads; ++head) {
            keys_[head].reserve(tokens);
            values_[head].reserve(tokens);
        }
    }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double d = static_cast<double>(shape_.dim), n = static_cast<double>(tokens), f = sizeof(float);
        const double chunks = static_cast<double>((tokens + kChunkRows - 1) / kChunkRows);
        CacheCost c;
        c.resident_bytes = 2.0 * chunks * kChunkRows * d * f * kv;
        c.transient_bytes = 0;  // f32 rows are read in place
        c.flops = 4.0 * n * d * h;
        c.bytes_moved = 2.0 * n * d * f * kv;
        return c;
    }

private:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t, const float* k1, const float*, const float* v1, const float*) {
        for (std::size_t head = 0; head < shape_.kv_heads; ++head) {
            keys_[head].append(k1 + head * shape_.dim);
            values_[head].append(v1 + head * shape_.dim);
        }
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    // One token's queries: each kv head's g query heads are contiguous, one stacked call.
    void attend_one(const float* q, float* out) {
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t kv) {
            const std::size_t first = HeadQueries::first_row(kv, shape_);
            matrix_decode(shape_.group_size(), q + first, keys_[kv].stored(), values_[kv].stored(),
                          static_cast<float>(shape_.scale), out + first, transient_);
        });
    }

    void clear_storage() override {
        for (std::size_t head = 0; head < shape_.kv_heads; ++head) {
            keys_[head].clear();
            values_[head].clear();
        }
    }

    std::vector<RowStore<float>> keys_, values_;  // per kv head
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "matrix",
    .description = "baseline: standard attention's KV cache over (k1, v1), 2(t+1)d scalars/head",
    .exact = true,
    .attention = AttentionKind::matrix,
    .params = {},
    .make = [](const CacheConfig&, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<MatrixCache>(shape);
    },
});

}  // namespace
}  // namespace trikv
