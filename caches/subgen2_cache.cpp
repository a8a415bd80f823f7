// subgen2 — SubGen (Zandieh, Han, Mirrokni, Karbasi 2024) on the product stream (docs/math.md §6, the
// seed paper's SubGen2Cache). APPROXIMATE. The stream is that of the `product` cache: token t
// adds the 2t+1 pairs (t, j) for j ≤ t, then (i, t) for i < t, each with pair key k1_i∘k2_j
// and pair value v1_i∘v2_j, and SubGen (caches/subgen_sketch.hpp) runs on that stream per head:
//   * online clustering of pair keys (first centre c with ‖k − c‖ ≤ δ‖c‖; δ relative to the
//     centre's norm — on the clustered generator a pair key k1∘k2 lies within ≈ 2√2·radius of
//     the first pair key of its ball c1∘c2 and distinct pair centres are ≈ √2 apart, both
//     relative, so δ = 0.5 recovers the m² balls of m factor clusters), with per-cluster
//     counts and uniform reservoirs of `samples` pair keys:
//         Z ≈ Σ_c (n_c/|S_c|) Σ_{k∈S_c} exp(scale·⟨q, k⟩)
//   * `values` independent weighted reservoir samplers of (pair key, pair value) with weight
//     ‖v1_i∘v2_j‖², μ the total weight:
//         N ≈ (μ/s) Σ_samplers exp(scale·⟨q, k⟩)·v/‖v‖²
//   output N/Z, both brought to a shared max.
//
// WHAT IS KEPT, and why this is not sublinear in n: forming token t's new pairs needs every
// earlier k1_i, k2_j, v1_i, v2_j, so the cache also keeps the four factor streams (exactly as
// `product` does). Memory per head is therefore
//   4·⌈n/256⌉·256·d·4                                   (factors, O(nd))
//   + ⌈m/64⌉·64·(d·4 + 2·8 + samples·d·4)               (m pair clusters)
//   + 2·values·d·4                                       (samplers: pair key and v/‖v‖²)
// = O(nd + d(m·samples + values)): sublinear in the PRODUCT stream (the `product` cache holds
// 2n²d), but never below the exact `factor` cache's 4nd — it is that plus a sketch. The only
// truly sublinear variant is `subgen4`, which keeps no factor. (A SubGen2 without factors would
// have to form the new pairs against sampled factors, which is subgen4's design.)
//
// Cost of a step, per head, with m pair clusters (m ≤ m1·m2 on clusterable factor keys):
//   append token t: form 2t+1 pair keys and weights (3(2t+1)d flops); assign them to clusters
//     in tiles of 256 with one SGEMM per tile and 64-centre chunk (2(2t+1)·m·d flops) and an
//     exact double-precision test for the candidates; 2t+1 reservoir draws; 2·values draws
//     per tile. This O(t·m·d) append dominates the step and is not in cost().flops, which the
//     interface defines as one attend.
//   attend: 2(R + s)·d + 2sd flops (R = Σ_c min(n_c, samples) reservoir keys, s = values), R + s
//     exponentials, reads (R + 2s)·d floats.
//
// Seeded and reproducible: head h draws from trikv::Rng(mix(seed, h)) in a fixed order; heads
// run in parallel, each on its own state, so outputs do not depend on threads.
#include <tbb/parallel_for.h>

#include <vector>

#include "caches/factor_streams.hpp"
#include "caches/registry.hpp"
#include "caches/subgen_sketch.hpp"

namespace trikv {
namespace {

constexpr std::size_t kFactorChunkRows = 256;
// Pair clusters are many (m1·m2 on clustered factors): 64 per chunk, and one SGEMM per chunk.
constexpr std::size_t kClustersPerChunk = 64;

using Streams = FactorStreams<float>;

class SubGen2Cache final : public Cache {
public:
    SubGen2Cache(const CacheShape& shape, const subgen::Params& params, std::string spec)
        : Cache(shape), params_(params), spec_(std::move(spec)),
          factors_(shape.kv_heads, shape.dim, kFactorChunkRows, resident_) {
        heads_.reserve(shape.kv_heads);
        for (std::size_t h = 0; h < shape.kv_heads; ++h) heads_.emplace_back(shape.dim, params, h, resident_);
    }

    std::string spec() const override { return spec_; }

    // The factors and samplers have known sizes; pair clusters open as pairs arrive.
    void reserve_storage(std::size_t tokens) override {
        factors_.reserve(tokens);
        for (Head& head : heads_) head.samplers.allocate();
    }

    // The factors are exact in `tokens`; the pair-cluster count is data-dependent, and the
    // model assumes each head keeps the clusters it has now (capped at tokens², the most the
    // pairs can open), i.e. m has saturated as SubGen's premise says. At the current size,
    // resident_bytes is exact; transient_bytes is exact for one head and the sum over heads
    // otherwise; flops and bytes_moved count the reservoir keys held (R = Σ_c min(n_c, samples);
    // for a projection, its bound min(keys, m·samples)). Sketches are per kv head; the
    // per-query terms count once for each query head of its group.
    CacheCost cost(std::size_t tokens) const override {
        const double d = double(shape_.dim), s = double(params_.values), f = sizeof(float);
        const double group = double(shape_.group_size());
        CacheCost c;
        c.resident_bytes = double(factors_.bytes_for(tokens));
        for (const Head& head : heads_) {
            const std::size_t m = std::min(head.pairs.clusters(), tokens * tokens);
            const double r = double(head.pairs.held_for(tokens * tokens, m));  // reservoir keys read
            const double capacity = double(m * params_.samples);             // the score buffer's size
            const bool samplers = tokens > 0 || head.samplers.keys() != nullptr;
            c.resident_bytes += double(head.pairs.bytes_for(m)) + (samplers ? double(head.samplers.bytes_for_storage()) : 0.0);
            // acc (d doubles) + the larger of the two estimators' score buffers.
            c.transient_bytes += group * (d * sizeof(double) + std::max(capacity, s) * f);
            c.flops += group * (2.0 * (r + s) * d + 2.0 * s * d + 2.0 * r);
            c.bytes_moved += group * ((r + 2.0 * s) * d * f + double(m) * 2 * sizeof(double));
        }
        return c;
    }

private:
    struct Head {
        Head(std::size_t dim, const subgen::Params& p, std::size_t index, MemoryMeter& meter)
            : pairs(dim, p.delta, p.samples, kClustersPerChunk, meter), samplers(dim, p.values, meter),
              seed(subgen::head_seed(p.seed, index)), rng(seed) {}
        subgen::ClusterSketch pairs;       // pair keys k1_i∘k2_j
        subgen::WeightedSamplers samplers;  // (k1_i∘k2_j, v1_i∘v2_j), weight ‖v1_i∘v2_j‖²
        std::uint64_t seed;
        Rng rng;
    };

    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t t, const float* k1, const float* k2, const float* v1, const float* v2) {
        factors_.append(k1, k2, v1, v2);
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t h) { append_pairs(h, t); });
    }

    // Offers token t's 2t+1 new pairs to head h's sketches, in tiles (order as `product`).
    void append_pairs(std::size_t h, std::size_t t) {
        const std::size_t d = shape_.dim, pairs = 2 * t + 1;
        const RowStore<float>& K1 = factors_.store(h, Streams::k1);
        const RowStore<float>& K2 = factors_.store(h, Streams::k2);
        const RowStore<float>& V1 = factors_.store(h, Streams::v1);
        const RowStore<float>& V2 = factors_.store(h, Streams::v2);
        auto pair = [t](std::size_t p) { return p <= t ? std::pair{t, p} : std::pair{p - t - 1, t}; };
        Head& head = heads_[h];
        for (std::size_t start = 0; start < pairs; start += kTile) {
            const std::size_t rows = std::min(kTile, pairs - start);
            Buffer<float> keys(rows * d, transient_);
            Buffer<double> weights(rows, transient_);
            for (std::size_t r = 0; r < rows; ++r) {
                const auto [i, j] = pair(start + r);
                const float *a = K1.row(i), *b = K2.row(j), *x = V1.row(i), *y = V2.row(j);
                float* key = keys.data() + r * d;
                double weight = 0;
                for (std::size_t l = 0; l < d; ++l) {
                    key[l] = a[l] * b[l];
                    const double value = static_cast<double>(x[l] * y[l]);
                    weight += value * value;
                }
                weights[r] = weight;
            }
            // Fixed draw order per tile: reservoirs (in pair order), then the samplers.
            head.pairs.add_batch(keys.data(), rows, head.rng, transient_);
            head.samplers.offer(
                weights.data(), rows, head.rng,
                [&](std::size_t r, float* key_out, float* value_out) {
                    const auto [i, j] = pair(start + r);
                    const float *x = V1.row(i), *y = V2.row(j);
                    std::copy_n(keys.data() + r * d, d, key_out);
                    for (std::size_t l = 0; l < d; ++l) value_out[l] = x[l] * y[l];
                },
                transient_);
        }
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
            const subgen::Scaled z = subgen::stream_normaliser(q + h * d, scale, head.pairs, transient_);
            const double top = subgen::stream_numerator(q + h * d, scale, head.samplers, acc.data(), transient_);
            subgen::finish(z, top, acc.data(), d, out + h * d);
        });
    }

    void clear_storage() override {
        factors_.clear();
        for (Head& head : heads_) {
            head.pairs.clear(), head.samplers.clear();
            head.rng = Rng(head.seed);
        }
    }

    static constexpr std::size_t kTile = subgen::ClusterSketch::kTileRows;

    subgen::Params params_;
    std::string spec_;
    Streams factors_;
    std::vector<Head> heads_;  // per kv head
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "subgen2",
    .description = "APPROXIMATE SubGen on the product stream: pair keys k1*k2 clustered (radius delta, relative) "
                   "with reservoirs, l2 samplers on pair values; keeps the factors: O(nd + d(m*samples+values))/head",
    .exact = false,
    .params = subgen::Params::declared(
        "cluster radius relative to the centre's norm: a pair key k joins the first centre c "
        "with |k-c| <= delta*|c| (0.5 recovers the clustered generator's m^2 pair balls)",
        "uniform reservoir size per pair cluster", "weighted (|v|^2) samplers of pair values"),
    .make = [](const CacheConfig& config, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<SubGen2Cache>(shape, subgen::Params::from(config), config.canonical());
    },
    .accuracy_ladder = subgen::Params::ladder,
    .bytes_depend_on_data = true,  // clusters open as keys arrive
});

}  // namespace
}  // namespace trikv
