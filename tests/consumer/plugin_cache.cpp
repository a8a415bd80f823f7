// A cache type in a plugin: built as a shared library against the installed trikv and loaded
// by the stock CLI (`trikv --plugin libconsumer_cache.so …`, or TRIKV_PLUGINS). It registers
// itself from a static initialiser, which runs when the CLI dlopens the library; nothing in
// trikv names it. It is exact (the four factor streams, attended by the library's fused
// kernel), so run_consumer.cmake can compare its output with the CLI's exact engine.
#include <attention/tensor_attention.hpp>
#include <caches/factor_streams.hpp>
#include <caches/registry.hpp>

#include <memory>

namespace {

using Streams = trikv::FactorStreams<float>;

class PluginFactorCache final : public trikv::Cache {
public:
    explicit PluginFactorCache(const trikv::CacheShape& shape)
        : Cache(shape), streams_(shape.kv_heads, shape.dim, trikv::kPairTileRows, resident_) {}

    std::string spec() const override { return "consumer-factor"; }
    void reserve_storage(std::size_t tokens) override { streams_.reserve(tokens); }

    trikv::CacheCost cost(std::size_t tokens) const override {
        const double n = static_cast<double>(tokens), hd = static_cast<double>(shape_.heads * shape_.dim);
        trikv::CacheCost c;
        c.resident_bytes = static_cast<double>(streams_.bytes_for(tokens));
        c.flops = 4.0 * n * n * hd;  // docs/math.md §3
        c.bytes_moved = 4.0 * n * hd * sizeof(float);
        // transient_bytes (the kernel's per-worker tiles) is left at 0: an example, not measured.
        return c;
    }

private:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1,
                       const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t, auto... rows) { streams_.append(rows...); });
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    void attend_one(const float* q, float* out) {
        const std::size_t d = shape_.dim;
        for (std::size_t h = 0; h < shape_.heads; ++h) {
            const std::size_t kv = shape_.kv_head_of(h);  // streams are kept per kv head
            trikv::tensor_decode(1, q + h * d, streams_.stored(kv, Streams::k1), streams_.stored(kv, Streams::k2),
                                 streams_.stored(kv, Streams::v1), streams_.stored(kv, Streams::v2),
                                 static_cast<float>(shape_.scale), out + h * d, transient_);
        }
    }

    void clear_storage() override { streams_.clear(); }

    Streams streams_;
};

[[maybe_unused]] const bool registered = trikv::register_cache({
    .name = "consumer-factor",
    .description = "example plugin (tests/consumer): factor streams, the library's fused kernel",
    .exact = true,
    .params = {},
    .make = [](const trikv::CacheConfig&, const trikv::CacheShape& shape) -> std::unique_ptr<trikv::Cache> {
        return std::make_unique<PluginFactorCache>(shape);
    },
});

}  // namespace
