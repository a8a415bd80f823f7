// reference — the ground truth behind the same interface (hnswlib's brute force plays this
// role there): keeps the factors in float64 and attends with the plain loops over pairs of
// attention/reference. Slow on purpose; tests and studies measure every other cache against it.
// Computes every score variant and keeps the kv heads only (query head h reads kv head
// shape.kv_head_of(h)).
#include <vector>

#include "attention/reference.hpp"
#include "caches/registry.hpp"

namespace trikv {
namespace {

class ReferenceCache final : public Cache {
public:
    explicit ReferenceCache(const CacheShape& shape) : Cache(shape) {}

    std::string spec() const override { return "reference"; }
    void reserve_storage(std::size_t) override {}

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), d = static_cast<double>(shape_.dim);
        const double n = static_cast<double>(tokens);
        CacheCost c;
        c.resident_bytes = static_cast<double>(resident_bytes(tokens));
        c.transient_bytes = 4.0 * n * d * sizeof(double) + d * sizeof(double);
        c.flops = 7.0 * n * n * d * h;  // two score passes (2d each) + the pair output (3d)
        c.bytes_moved = 4.0 * n * d * sizeof(double) * h;  // each query head reads its kv head's rows
        return c;
    }

private:
    std::size_t resident_bytes(std::size_t tokens) const {
        return 4 * tokens * shape_.dim * shape_.kv_heads * sizeof(double);
    }

    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t t, const float* k1, const float* k2, const float* v1, const float* v2) {
        const float* inputs[4] = {k1, k2, v1, v2};
        std::vector<Buffer<double>> grown;
        const std::size_t n = t + 1, d = shape_.dim;
        // Contiguous float64 matrices per head and stream, rebuilt one row longer: simple and
        // exact; this cache is never the fast one.
        for (std::size_t slot = 0; slot < 4 * shape_.kv_heads; ++slot) {
            Buffer<double> next(n * d, resident_);
            if (n > 1) std::copy_n(streams_[slot].data(), (n - 1) * d, next.data());
            const float* in = inputs[slot % 4] + (slot / 4) * d;
            for (std::size_t l = 0; l < d; ++l) next[(n - 1) * d + l] = in[l];
            grown.push_back(std::move(next));
        }
        streams_ = std::move(grown);
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    void attend_one(const float* q, float* out) {
        const std::size_t n = size(), d = shape_.dim;
        // The four n×d float64 matrices and the query of one head at a time.
        const MemoryCharge scratch(transient_, (4 * n * d + d) * sizeof(double));
        for (std::size_t head = 0; head < shape_.heads; ++head) {
            const std::size_t kv = shape_.kv_head_of(head);
            auto matrix = [&](std::size_t stream) {
                Matrix<double> m = xt::zeros<double>({n, d});
                std::copy_n(streams_[4 * kv + stream].data(), n * d, m.data());
                return m;
            };
            Vector<double> query = xt::zeros<double>({d});
            std::copy_n(q + head * d, d, query.data());
            const Vector<double> o = reference::tensor_decode(query, matrix(0), matrix(1), matrix(2),
                                                              matrix(3), n, shape_.scale, shape_.variant);
            for (std::size_t l = 0; l < d; ++l) out[head * d + l] = static_cast<float>(o(l));
        }
    }

    void clear_storage() override { streams_.clear(); }

    std::vector<Buffer<double>> streams_;  // [kv head][k1, k2, v1, v2], each n×d
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "reference",
    .description = "ground truth: float64 factors, plain loops over pairs; slow, for tests and accuracy",
    .exact = true,
    .params = {},
    .make = [](const CacheConfig&, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<ReferenceCache>(shape);
    },
    .variants = all_variants,
});

}  // namespace
}  // namespace trikv
