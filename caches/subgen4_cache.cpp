// subgen4 — SubGen (Zandieh, Han, Mirrokni, Karbasi 2024) on the factor streams (docs/math.md §6,
// the seed paper's SubGen4Cache). APPROXIMATE. Per head it keeps no factor rows at all, only
// four sketches (the machinery and every estimator are in caches/subgen_sketch.hpp):
//   * K1 and K2 are clustered separately online (a key joins the first cluster whose centre c
//     has ‖k − c‖ ≤ δ‖c‖: δ is relative to the centre's norm), each cluster with its count and
//     a uniform reservoir of `samples` keys;
//   * two independent sets of `values` weighted reservoir samplers, one over (k1, v1) items with
//     weight ‖v1‖², one over (k2, v2) items with weight ‖v2‖².
// Attend forms pair estimates from the factor sketches:
//   Z ≈ Σ_{c1,c2} n_c1 n_c2/(|S_c1||S_c2|) Σ_{k1∈S_c1,k2∈S_c2} exp(scale·Σ_l q_l k1_l k2_l)
//   N ≈ μ1 μ2/s² Σ_{a,b} exp(scale·Σ_l q_l k1_al k2_bl)·(v1_a ∘ v2_b)/(‖v1_a‖²‖v2_b‖²)
// over the s×s pairs of samples (unbiased: a and b are independent, P(a=i, b=j) =
// ‖v1_i‖²‖v2_j‖²/(μ1μ2)); output N/Z with both brought to a shared max. Z is biased only
// through the ratio n_c/|S_c| times a sample mean (unbiased per cluster pair, as in SubGen),
// and N/Z is a ratio estimator, consistent but not unbiased.
//
// Memory per head, with m1, m2 clusters (data-dependent; m = o(n) on clusterable keys):
//   Σ_{s=1,2} [centres ⌈m_s/16⌉·16·d·4 + metadata ⌈m_s/16⌉·16·2·8 + slots ⌈m_s/16⌉·16·samples·d·4]
//   + 2 · 2·values·d·4 (each sampler holds k and v/‖v‖²)
// i.e. O(d(m·samples + values)), independent of n: no factor is kept.
// Append: O((m1 + m2)·d) to find the clusters, O(values) random draws. Attend, with
// R = Σ_c min(n_c, samples) ≤ m·samples reservoir keys and s = values: 2·R1·R2·d + 4·s²·d flops (three SGEMMs) plus
// R1·R2 + s² exponentials; reads (R1 + R2 + 4s)·d floats.
//
// Seeded and reproducible: head h draws from trikv::Rng(mix(seed, h)) in a fixed order, so the
// output does not depend on threads (heads run in parallel, each touching only its own state).
// clear() restarts every generator from its seed.
#include <tbb/parallel_for.h>

#include <vector>

#include "caches/registry.hpp"
#include "caches/subgen_sketch.hpp"

namespace trikv {
namespace {

// Few clusters are expected (m = o(n)), so they are allocated 16 at a time.
constexpr std::size_t kClustersPerChunk = 16;

class SubGen4Cache final : public Cache {
public:
    SubGen4Cache(const CacheShape& shape, const subgen::Params& params, std::string spec)
        : Cache(shape), params_(params), spec_(std::move(spec)) {
        heads_.reserve(shape.kv_heads);
        for (std::size_t h = 0; h < shape.kv_heads; ++h) heads_.emplace_back(shape.dim, params, h, resident_);
    }

    std::string spec() const override { return spec_; }

    // Only the samplers have a size known in advance; clusters open as keys arrive.
    void reserve_storage(std::size_t) override {
        for (Head& head : heads_) head.s1.allocate(), head.s2.allocate();
    }

    // Cluster counts are data-dependent: the model assumes each head keeps the clusters it
    // has now (capped at `tokens`, the most `tokens` keys can open), i.e. m = o(n) has
    // saturated. At the current size, resident_bytes is exact; transient_bytes is exact for
    // one head and the sum over heads (all running at once) otherwise; flops and
    // bytes_moved count the reservoir keys held (R = Σ_c min(n_c, samples); for a projection
    // to more tokens, its bound min(keys, m·samples)). Sketches are per kv head; the
    // per-query terms count once for each query head of its group.
    CacheCost cost(std::size_t tokens) const override {
        const double d = double(shape_.dim), s = double(params_.values), f = sizeof(float);
        const double group = double(shape_.group_size());
        CacheCost c;
        for (const Head& head : heads_) {
            const std::size_t m1 = std::min(head.k1.clusters(), tokens), m2 = std::min(head.k2.clusters(), tokens);
            // Reservoir keys the estimators read (the scratch below is sized by capacity).
            const double r1 = double(head.k1.held_for(tokens, m1)), r2 = double(head.k2.held_for(tokens, m2));
            const double cap1 = double(m1 * params_.samples), cap2 = double(m2 * params_.samples);
            const bool samplers = tokens > 0 || head.s1.keys() != nullptr;
            c.resident_bytes += double(head.k1.bytes_for(m1) + head.k2.bytes_for(m2)) +
                                (samplers ? 2.0 * double(head.s1.bytes_for_storage()) : 0.0);
            // acc (d doubles) + the larger of the two estimators' scratch (subgen_sketch.hpp).
            const double normaliser = (cap1 + cap2) * d * f + (cap1 + cap2) * sizeof(double) +
                                      std::min(double(subgen::kPairEstimatorRows), cap1) * cap2 * f;
            const double numerator = s * d * f + std::min(double(subgen::kPairEstimatorRows), s) * (s + d) * f;
            c.transient_bytes += group * (d * sizeof(double) + std::max(normaliser, numerator));
            c.flops += group * (2.0 * r1 * r2 * d + 3.0 * r1 * r2 + r1 * d + 4.0 * s * s * d + s * s + 3.0 * s * d);
            c.bytes_moved += group * ((r1 + r2 + 4.0 * s) * d * f + double(m1 + m2) * 2 * sizeof(double));
        }
        return c;
    }

private:
    struct Head {
        Head(std::size_t dim, const subgen::Params& p, std::size_t index, MemoryMeter& meter)
            : k1(dim, p.delta, p.samples, kClustersPerChunk, meter), k2(dim, p.delta, p.samples, kClustersPerChunk, meter),
              s1(dim, p.values, meter), s2(dim, p.values, meter), seed(subgen::head_seed(p.seed, index)), rng(seed) {}
        subgen::ClusterSketch k1, k2;
        subgen::WeightedSamplers s1, s2;  // over (k1, v1) and (k2, v2)
        std::uint64_t seed;
        Rng rng;
    };

    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t, const float* k1, const float* k2, const float* v1, const float* v2) {
        const std::size_t d = shape_.dim;
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t h) {
            Head& head = heads_[h];
            const float *key1 = k1 + h * d, *key2 = k2 + h * d, *value1 = v1 + h * d, *value2 = v2 + h * d;
            // Fixed draw order: K1 reservoir, K2 reservoir, v1 samplers, v2 samplers.
            head.k1.add(key1, head.rng);
            head.k2.add(key2, head.rng);
            const double w1 = subgen::squared_norm(value1, d), w2 = subgen::squared_norm(value2, d);
            auto fill = [d](const float* key, const float* value) {
                return [=](std::size_t, float* key_out, float* value_out) {
                    std::copy_n(key, d, key_out);
                    std::copy_n(value, d, value_out);
                };
            };
            head.s1.offer(&w1, 1, head.rng, fill(key1, value1), transient_);
            head.s2.offer(&w2, 1, head.rng, fill(key2, value2), transient_);
        });
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    void attend_one(const float* q, float* out) {
        const std::size_t d = shape_.dim;
        const float scale = static_cast<float>(shape_.scale);
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t h) {
            const Head& head = heads_[shape_.kv_head_of(h)];
            Buffer<double> acc(d, transient_);
            const subgen::Scaled z = subgen::pair_normaliser(q + h * d, scale, head.k1, head.k2, transient_);
            const double top = subgen::pair_numerator(q + h * d, scale, head.s1, head.s2, acc.data(), transient_);
            subgen::finish(z, top, acc.data(), d, out + h * d);
        });
    }

    void clear_storage() override {
        for (Head& head : heads_) {
            head.k1.clear(), head.k2.clear(), head.s1.clear(), head.s2.clear();
            head.rng = Rng(head.seed);
        }
    }

    subgen::Params params_;
    std::string spec_;
    std::vector<Head> heads_;  // per kv head
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "subgen4",
    .description = "APPROXIMATE SubGen on the factor streams: K1, K2 clustered (radius delta, relative) with "
                   "reservoirs, l2 samplers on (k1,v1), (k2,v2); O(d(m*samples+values))/head, keeps no factors",
    .exact = false,
    .params = subgen::Params::declared(
        "cluster radius relative to the centre's norm: k joins the first centre c with "
        "|k-c| <= delta*|c| (0.5 recovers the clustered generator's balls for radius <= ~0.15)",
        "uniform reservoir size per cluster", "weighted (|v|^2) samplers per value stream; s*s sample pairs form the numerator"),
    .make = [](const CacheConfig& config, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<SubGen4Cache>(shape, subgen::Params::from(config), config.canonical());
    },
    .accuracy_ladder = subgen::Params::ladder,
    .bytes_depend_on_data = true,  // clusters open as keys arrive
});

}  // namespace
}  // namespace trikv
