#pragma once
// The machinery of the SubGen caches (docs/math.md §6; Zandieh, Han, Mirrokni, Karbasi 2024), shared
// by `subgen2` (caches/subgen2_cache.cpp: SubGen on the product stream of pair keys
// k1_i∘k2_j) and `subgen4` (caches/subgen4_cache.cpp: SubGen on the factor streams K1, K2).
// No code of the paper is public; every choice the published description leaves open is
// stated where it is made and collected here:
//
//  * ClusterSketch — online clustering with a uniform reservoir per cluster. A key joins the
//    FIRST cluster (in order of creation) whose centre c satisfies ‖k − c‖ ≤ δ·‖c‖, else it
//    opens a new cluster whose centre is the key itself (centres never move). δ is RELATIVE
//    to the centre's norm, so one δ means the same on factor keys and on pair keys k1∘k2,
//    whose norms differ, and it does not depend on the scale of the data. Every cluster is
//    thus a fixed ball of radius δ‖c‖. Membership is decided in double precision; the batch
//    path (add_batch) uses a float SGEMM only to skip centres that are provably too far
//    (with a rigorous rounding slack), so it assigns exactly as the one-key-at-a-time path.
//    Each cluster keeps its count n_c and a uniform reservoir of `samples` keys (Vitter's
//    Algorithm R: the n-th key goes to slot n−1 while n ≤ samples, else replaces slot
//    ⌊u·n⌋ if that is < samples).
//  * WeightedSamplers — `count` independent single-item weighted reservoir samplers over
//    (key, value) items with weight w = ‖v‖²: an item replaces a sampler's item with
//    probability w / W, W the total weight offered so far, so each sampler ends holding
//    item i with probability w_i / W. Items may be offered in batches: a sampler then
//    replaces its item with probability (batch weight)/W_new and, if so, takes a batch
//    item drawn ∝ w. The final distribution is exactly that of offering the items one by
//    one (the product Π(1 − w_b/W_b) telescopes to W_old/W_new); only the random draws
//    differ. A sampler stores the key and ṽ = v/‖v‖² (v is recoverable: v = ṽ/‖ṽ‖²),
//    which is what the estimator reads.
//  * Estimators, all as x·exp(max) pairs so that the normaliser and the numerator can be
//    brought to one shared max before dividing (the log-sum-exp merge of
//    attention/softmax.hpp); exponentials use the vectorised exp_shifted_sum:
//      stream_normaliser  Z ≈ Σ_c (n_c/|S_c|) Σ_{k∈S_c} exp(scale·⟨q, k⟩)
//      stream_numerator   N ≈ (μ/s) Σ_samples exp(scale·⟨q, k⟩)·v/‖v‖²,  μ = Σ‖v‖²
//      pair_normaliser    Z ≈ Σ_{c1,c2} (n_c1 n_c2/(|S_c1||S_c2|)) Σ_{k1∈S_c1,k2∈S_c2}
//                                exp(scale·Σ_l q_l k1_l k2_l)
//      pair_numerator     N ≈ (μ1 μ2/(s1 s2)) Σ_{a,b} exp(scale·Σ_l q_l k1_al k2_bl)
//                                · (v1_a ∘ v2_b)/(‖v1_a‖² ‖v2_b‖²)
//    The pair numerator is unbiased: a (from the v1 samplers) and b (from the v2 samplers)
//    are independent with P(a = i, b = j) = ‖v1_i‖²‖v2_j‖²/(μ1 μ2), so each of the s1·s2
//    terms has expectation Σ_ij exp(s_ij)·v1_i∘v2_j (pairs with v1_i = 0 or v2_j = 0 add
//    nothing to the exact sum either). It is the tensor-attention numerator over the samples
//    with values ṽ1, ṽ2, so it reassociates like docs/math.md §3: E = exp(S), U = E·Ṽ2,
//    N = Σ_a ṽ1_a ∘ U_a (two SGEMMs, no s1·s2·d buffer).
//
// Storage: centres, per-cluster metadata (n_c and ‖c‖²) and reservoir slots live in
// RowStores charged to the owning cache's resident meter; a cluster's `samples` slots are
// allocated when it opens and are contiguous. Scratch is charged to the meter the caller
// passes (the cache's transient meter). Nothing here is thread-safe: one sketch per head.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "attention/blas.hpp"
#include "attention/softmax.hpp"
#include "caches/budget.hpp"
#include "caches/registry.hpp"
#include "caches/row_store.hpp"
#include "framework/memory.hpp"
#include "framework/rng.hpp"

namespace trikv::subgen {

// The parameters both SubGen caches declare (delta, samples, values, seed), read from a spec.
struct Params {
    double delta = 0.5;
    std::size_t samples = 8, values = 64;
    std::uint64_t seed = 0;

    static Params from(const CacheConfig& config) {
        return {config.number("delta"), static_cast<std::size_t>(config.integer("samples")),
                static_cast<std::size_t>(config.integer("values")), static_cast<std::uint64_t>(config.integer("seed"))};
    }
    // The parameters both SubGen types declare, with their defaults and ranges; the types say
    // what clusters and what the samplers draw from in their own words.
    static std::vector<CacheParam> declared(const char* delta_meaning, const char* samples_meaning,
                                            const char* values_meaning) {
        return {{.name = "delta", .default_value = "0.5", .description = delta_meaning, .choices = {}, .min = 1e-9, .max = 1e9},
                {.name = "samples", .default_value = "8", .description = samples_meaning, .choices = {}, .min = 1,
                 .max = 1 << 20, .integer = true},
                {.name = "values", .default_value = "64", .description = values_meaning, .choices = {}, .min = 1,
                 .max = 1 << 20, .integer = true},
                {.name = "seed", .default_value = "0", .description = "random seed (mixed with the head index)",
                 .choices = {}, .min = 0, .max = 1e9, .integer = true}};
    }
    // Both types' accuracy ladder (CacheType::accuracy_ladder): more reservoir samples per
    // cluster, 1, 2, 4, … up to kMostSamples; delta and the value samplers stay as given.
    static constexpr std::size_t kMostSamples = 64;  // decoding slows with samples²
    static std::vector<std::string> ladder(const CacheConfig& config, const BudgetScope& scope) {
        std::vector<std::string> steps;
        for (std::size_t samples : powers_up_to(scope.most("samples", double(kMostSamples))))
            steps.push_back(config.with({{"samples", std::to_string(samples)}}));
        return steps;
    }
};

// splitmix64's finaliser: a bijective 64-bit mix.
inline std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// The seed of head `head`'s generator: distinct heads draw independent streams, and a cache
// is reproducible from (seed, head) alone, whatever the thread schedule.
inline std::uint64_t head_seed(std::uint64_t seed, std::size_t head) { return mix64(mix64(seed) + head); }

// Uniform integer in [0, n), n ≥ 1 (53 random bits; n stays far below 2^53 here).
inline std::uint64_t uniform_below(Rng& rng, std::uint64_t n) {
    return std::min<std::uint64_t>(n - 1, static_cast<std::uint64_t>(rng.uniform() * static_cast<double>(n)));
}

inline double squared_norm(const float* x, std::size_t dim) {
    double sum = 0;
    for (std::size_t l = 0; l < dim; ++l) sum += static_cast<double>(x[l]) * x[l];
    return sum;
}

// A value x·exp(max): normalisers and numerators are kept in this form until they are
// brought to a shared max.
struct Scaled {
    double max = -std::numeric_limits<double>::infinity();
    double sum = 0;
};

// Online clustering of one key stream with a uniform reservoir per cluster (see the top).
class ClusterSketch {
public:
    // Rows of the batch assignment (add_batch processes keys in tiles of at most this many).
    static constexpr std::size_t kTileRows = 256;

    // `clusters_per_chunk` clusters share one allocation of each store (allocation slack is
    // at most one partly used chunk).
    ClusterSketch(std::size_t dim, double delta, std::size_t samples, std::size_t clusters_per_chunk, MemoryMeter& meter)
        : dim_(dim), delta2_(delta * delta), samples_(samples), clusters_per_chunk_(clusters_per_chunk),
          centres_(dim, clusters_per_chunk, meter), meta_(2, clusters_per_chunk, meter),
          slots_(dim, clusters_per_chunk * samples, meter) {}

    std::size_t dim() const { return dim_; }
    std::size_t samples() const { return samples_; }
    std::size_t clusters() const { return centres_.rows(); }
    const float* centre(std::size_t c) const { return centres_.row(c); }
    double count(std::size_t c) const { return meta_.row(c)[0]; }  // n_c (exact below 2^53)
    std::size_t filled(std::size_t c) const {                      // |S_c| = min(n_c, samples)
        return static_cast<std::size_t>(std::min(count(c), static_cast<double>(samples_)));
    }
    double weight(std::size_t c) const { return count(c) / static_cast<double>(filled(c)); }  // n_c/|S_c|
    // Reservoir slot r < filled(c) of cluster c; a cluster's slots are contiguous rows.
    const float* sample(std::size_t c, std::size_t r) const { return slots_.row(c * samples_ + r); }
    // Keys held in reservoirs (Σ_c |S_c|).
    std::size_t held() const {
        std::size_t sum = 0;
        for (std::size_t c = 0; c < clusters(); ++c) sum += filled(c);
        return sum;
    }
    // Keys the sketch has absorbed (Σ_c n_c).
    std::size_t keys() const {
        double sum = 0;
        for (std::size_t c = 0; c < clusters(); ++c) sum += count(c);
        return static_cast<std::size_t>(sum);
    }
    // Reservoir keys an estimator reads once the sketch holds `keys` keys in `clusters`
    // clusters: exactly held() for the keys it holds now; for a projection, the bound
    // min(keys, clusters·samples) (each cluster holds min(n_c, samples) ≤ n_c).
    std::size_t held_for(std::size_t keys, std::size_t clusters) const {
        return keys == this->keys() ? held() : std::min(keys, clusters * samples_);
    }

    // Whether key lies in cluster c's ball, ‖k − c‖² ≤ δ²‖c‖², decided in double.
    bool contains(std::size_t c, const float* key) const {
        const float* centre = centres_.row(c);
        double distance2 = 0;
        for (std::size_t l = 0; l < dim_; ++l) {
            const double diff = static_cast<double>(key[l]) - centre[l];
            distance2 += diff * diff;
        }
        return distance2 <= delta2_ * meta_.row(c)[1];
    }

    // The first cluster containing key, or clusters() if none does.
    std::size_t find(const float* key) const {
        for (std::size_t c = 0; c < clusters(); ++c)
            if (contains(c, key)) return c;
        return clusters();
    }

    // Adds one key (one-at-a-time path, O(m·d)); returns its cluster.
    std::size_t add(const float* key, Rng& rng) {
        const std::size_t c = find(key);
        insert(c, key, rng);
        return c;
    }

    // Adds `rows` keys (row-major, contiguous), in order, with exactly the assignments and
    // random draws of calling add() on each. Per tile of keys and per chunk of centres one
    // SGEMM gives approximate squared distances ‖k‖² + ‖c‖² − 2⟨k, c⟩; a centre is tested
    // exactly only if that is within δ²‖c‖² plus the rounding slack 2·d·ε_float·(‖k‖² + ‖c‖²),
    // which is at least twice the worst-case error of a float dot product of length d, so no
    // member is ever skipped. Centres opened inside the tile are tested exactly. Scratch
    // (charged to `scratch`): a tile's dot products with one chunk of centres, its key norms
    // and assignments: kTileRows·(clusters_per_chunk·4 + 16) bytes at most.
    void add_batch(const float* keys, std::size_t rows, Rng& rng, MemoryMeter& scratch) {
        for (std::size_t start = 0; start < rows; start += kTileRows)
            add_tile(keys + start * dim_, std::min(kTileRows, rows - start), rng, scratch);
    }

    void clear() {
        centres_.clear();
        meta_.clear();
        slots_.clear();
    }

    // Resident bytes with `clusters` clusters (whole chunks, as the stores allocate them).
    std::size_t bytes_for(std::size_t clusters) const {
        return centres_.bytes_for(clusters) + meta_.bytes_for(clusters) + slots_.bytes_for(clusters * samples_);
    }

private:
    void add_tile(const float* keys, std::size_t rows, Rng& rng, MemoryMeter& scratch) {
        const std::size_t existing = clusters(), none = std::numeric_limits<std::size_t>::max();
        Buffer<double> norms(rows, scratch);
        Buffer<std::size_t> assigned(rows, scratch);
        for (std::size_t r = 0; r < rows; ++r) {
            norms[r] = squared_norm(keys + r * dim_, dim_);
            assigned[r] = none;
        }
        if (existing > 0) {
            const double slack = 2.0 * static_cast<double>(dim_) * FLT_EPSILON;
            Buffer<float> dots(rows * std::min(existing, clusters_per_chunk_), scratch);
            for (std::size_t first = 0; first < existing; first += clusters_per_chunk_) {
                const std::size_t width = std::min(clusters_per_chunk_, existing - first);
                blas::gemm(int(rows), int(width), int(dim_), 1.0f, keys, int(dim_), centres_.row(first), int(dim_), true,
                           0.0f, dots.data(), int(width));
                for (std::size_t r = 0; r < rows; ++r) {
                    if (assigned[r] != none) continue;
                    for (std::size_t c = first; c < first + width; ++c) {
                        const double centre2 = meta_.row(c)[1];
                        const double approx = norms[r] + centre2 - 2.0 * dots[r * width + (c - first)];
                        if (approx > delta2_ * centre2 + slack * (norms[r] + centre2)) continue;
                        if (contains(c, keys + r * dim_)) {
                            assigned[r] = c;
                            break;
                        }
                    }
                }
            }
        }
        // In key order (the order add() would see them): clusters opened by earlier keys of
        // this tile come after every existing one, so testing them last keeps "first".
        for (std::size_t r = 0; r < rows; ++r) {
            const float* key = keys + r * dim_;
            std::size_t c = assigned[r];
            if (c == none) {
                c = existing;
                while (c < clusters() && !contains(c, key)) ++c;
            }
            insert(c, key, rng);
        }
    }

    // Counts key in cluster c (opening it if c == clusters()) and offers it to the reservoir.
    void insert(std::size_t c, const float* key, Rng& rng) {
        if (c == clusters()) {
            std::copy_n(key, dim_, centres_.append_row());
            double* meta = meta_.append_row();
            meta[0] = 0;
            meta[1] = squared_norm(key, dim_);
            for (std::size_t r = 0; r < samples_; ++r) slots_.append_row();  // filled as keys arrive
        }
        double* meta = meta_.row(c);
        meta[0] += 1;
        const std::uint64_t n = static_cast<std::uint64_t>(meta[0]);
        std::uint64_t slot = n - 1;
        if (n > samples_) {
            slot = uniform_below(rng, n);
            if (slot >= samples_) return;
        }
        std::copy_n(key, dim_, slots_.row(c * samples_ + static_cast<std::size_t>(slot)));
    }

    std::size_t dim_;
    double delta2_;
    std::size_t samples_, clusters_per_chunk_;
    RowStore<float> centres_;
    RowStore<double> meta_;  // per cluster: n_c, ‖centre‖²
    RowStore<float> slots_;  // per cluster: `samples` rows
};

// `count` independent single-item weighted reservoir samplers over (key, value) items with
// weight ‖v‖² (see the top). Storage (2·count·dim floats) is allocated on first use.
class WeightedSamplers {
public:
    WeightedSamplers(std::size_t dim, std::size_t count, MemoryMeter& meter) : dim_(dim), count_(count), meter_(&meter) {}

    std::size_t dim() const { return dim_; }
    std::size_t count() const { return count_; }
    // μ = Σ w over every item offered; every sampler holds an item as soon as μ > 0.
    double total() const { return total_; }
    bool empty() const { return total_ <= 0; }
    const float* keys() const { return keys_.data(); }      // count × dim
    const float* values() const { return values_.data(); }  // count × dim, each v/‖v‖²
    const float* key(std::size_t s) const { return keys_.data() + s * dim_; }
    const float* value(std::size_t s) const { return values_.data() + s * dim_; }

    void allocate() {
        if (keys_.size() > 0) return;
        keys_ = Buffer<float>(count_ * dim_, *meter_);
        values_ = Buffer<float>(count_ * dim_, *meter_);
    }
    void clear() {
        keys_ = Buffer<float>();
        values_ = Buffer<float>();
        total_ = 0;
    }
    std::size_t bytes_for_storage() const { return 2 * count_ * dim_ * sizeof(float); }

    // Offers `items` items with weights[b] ≥ 0 (w = ‖v_b‖², computed by the caller). For every
    // sampler that takes item b, fill(b, key, value) writes the item's key and value (dim
    // floats each) into the sampler's rows; the value is then divided by weights[b]. Draws:
    // one uniform per sampler, plus one per replacement when items > 1. Scratch: items
    // doubles of prefix sums (items > 1).
    template <class Fill>
    void offer(const double* weights, std::size_t items, Rng& rng, Fill&& fill, MemoryMeter& scratch) {
        allocate();
        Buffer<double> prefix(items > 1 ? items : 0, scratch);
        double batch = 0;
        for (std::size_t b = 0; b < items; ++b) {
            batch += weights[b];
            if (items > 1) prefix[b] = batch;
        }
        if (!(batch > 0)) return;
        total_ += batch;
        for (std::size_t s = 0; s < count_; ++s) {
            if (rng.uniform() * total_ >= batch) continue;  // keeps its item: probability W_old/W_new
            std::size_t b = 0;
            if (items > 1) {
                const double r = rng.uniform() * batch;
                b = std::min<std::size_t>(std::upper_bound(prefix.data(), prefix.data() + items, r) - prefix.data(),
                                          items - 1);
                while (b > 0 && !(weights[b] > 0)) --b;  // only if r rounded up to the batch total
            }
            float* k = keys_.data() + s * dim_;
            float* v = values_.data() + s * dim_;
            fill(b, k, v);
            const double inverse = 1.0 / weights[b];
            for (std::size_t l = 0; l < dim_; ++l) v[l] = static_cast<float>(v[l] * inverse);
        }
    }

private:
    std::size_t dim_, count_;
    MemoryMeter* meter_;
    Buffer<float> keys_, values_;
    double total_ = 0;
};

// Rows of the score blocks in the pair estimators.
inline constexpr std::size_t kPairEstimatorRows = 64;

// Z ≈ Σ_c (n_c/|S_c|) Σ_{k∈S_c} exp(scale·⟨q, k⟩). Scratch: clusters·samples floats.
inline Scaled stream_normaliser(const float* q, float scale, const ClusterSketch& sketch, MemoryMeter& scratch) {
    const std::size_t d = sketch.dim();
    Buffer<float> scores(sketch.clusters() * sketch.samples(), scratch);
    std::size_t used = 0;
    for (std::size_t c = 0; c < sketch.clusters(); ++c) {
        const std::size_t f = sketch.filled(c);
        blas::gemv(false, int(f), int(d), scale, sketch.sample(c, 0), int(d), q, 0.0f, scores.data() + used);
        used += f;
    }
    Scaled z;
    if (used == 0) return z;
    z.max = max_of(scores.data(), used);
    used = 0;
    for (std::size_t c = 0; c < sketch.clusters(); ++c) {
        const std::size_t f = sketch.filled(c);
        z.sum += sketch.weight(c) * exp_shifted_sum(scores.data() + used, f, static_cast<float>(z.max));
        used += f;
    }
    return z;
}

// N ≈ (μ/s) Σ_samplers exp(scale·⟨q, k⟩)·v/‖v‖², returned as acc·exp(max): acc (dim doubles)
// is overwritten, the max is returned (−∞ and acc = 0 when μ = 0). Scratch: count floats.
inline double stream_numerator(const float* q, float scale, const WeightedSamplers& samplers, double* acc,
                               MemoryMeter& scratch) {
    const std::size_t d = samplers.dim(), s = samplers.count();
    std::fill(acc, acc + d, 0.0);
    Buffer<float> scores(s, scratch);
    if (samplers.empty()) return -std::numeric_limits<double>::infinity();
    blas::gemv(false, int(s), int(d), scale, samplers.keys(), int(d), q, 0.0f, scores.data());
    const float top = max_of(scores.data(), s);
    exp_shifted_sum(scores.data(), s, top);
    for (std::size_t a = 0; a < s; ++a) {
        const float* v = samplers.value(a);
        const double e = scores[a];
        for (std::size_t l = 0; l < d; ++l) acc[l] += e * v[l];
    }
    const double coefficient = samplers.total() / static_cast<double>(s);
    for (std::size_t l = 0; l < d; ++l) acc[l] *= coefficient;
    return top;
}

// Z ≈ Σ_{c1,c2} (n_c1 n_c2/(|S_c1||S_c2|)) Σ_{k1∈S_c1, k2∈S_c2} exp(scale·Σ_l q_l k1_l k2_l):
// one SGEMM (scale·K1_samples ∘ q)·K2_samplesᵀ per block of 64 rows, with a running max.
// Scratch: R1·d + R2·d floats, R1 + R2 doubles and min(64, R1)·R2 floats, with R = clusters·samples
// of each sketch (capacity, so the amount does not depend on how full the reservoirs are).
inline Scaled pair_normaliser(const float* q, float scale, const ClusterSketch& first, const ClusterSketch& second,
                              MemoryMeter& scratch) {
    const std::size_t d = first.dim();
    const std::size_t cap1 = first.clusters() * first.samples(), cap2 = second.clusters() * second.samples();
    Buffer<float> a(cap1 * d, scratch), b(cap2 * d, scratch);
    Buffer<double> w1(cap1, scratch), w2(cap2, scratch);
    std::size_t rows1 = 0, rows2 = 0;
    for (std::size_t c = 0; c < first.clusters(); ++c)
        for (std::size_t r = 0; r < first.filled(c); ++r, ++rows1) {
            const float* k = first.sample(c, r);
            for (std::size_t l = 0; l < d; ++l) a[rows1 * d + l] = scale * q[l] * k[l];
            w1[rows1] = first.weight(c);
        }
    for (std::size_t c = 0; c < second.clusters(); ++c)
        for (std::size_t r = 0; r < second.filled(c); ++r, ++rows2) {
            std::copy_n(second.sample(c, r), d, b.data() + rows2 * d);
            w2[rows2] = second.weight(c);
        }
    Scaled z;
    if (rows1 == 0 || rows2 == 0) return z;
    Buffer<float> s(std::min(kPairEstimatorRows, cap1) * cap2, scratch);
    for (std::size_t start = 0; start < rows1; start += kPairEstimatorRows) {
        const std::size_t rows = std::min(kPairEstimatorRows, rows1 - start);
        blas::gemm(int(rows), int(rows2), int(d), 1.0f, a.data() + start * d, int(d), b.data(), int(d), true, 0.0f,
                   s.data(), int(rows2));
        const double top = max_of(s.data(), rows * rows2);
        if (top > z.max) {
            z.sum *= std::exp(z.max - top);
            z.max = top;
        }
        exp_shifted_sum(s.data(), rows * rows2, static_cast<float>(z.max));
        for (std::size_t i = 0; i < rows; ++i) {
            double row = 0;
            for (std::size_t j = 0; j < rows2; ++j) row += w2[j] * s[i * rows2 + j];
            z.sum += w1[start + i] * row;
        }
    }
    return z;
}

// N ≈ (μ1 μ2/(s1 s2)) Σ_{a,b} exp(scale·Σ_l q_l k1_al k2_bl)·ṽ1_a ∘ ṽ2_b, returned as
// acc·exp(max) like stream_numerator. Per block of 64 rows a: E = exp(S − max) (SGEMM, then
// exp), U = E·Ṽ2 (SGEMM), acc += Σ_a ṽ1_a ∘ U_a. Scratch: s1·d floats, then
// min(64, s1)·(s2 + d) floats.
inline double pair_numerator(const float* q, float scale, const WeightedSamplers& first,
                             const WeightedSamplers& second, double* acc, MemoryMeter& scratch) {
    const std::size_t d = first.dim(), s1 = first.count(), s2 = second.count();
    std::fill(acc, acc + d, 0.0);
    Buffer<float> a(s1 * d, scratch);
    Buffer<float> e(std::min(kPairEstimatorRows, s1) * s2, scratch), u(std::min(kPairEstimatorRows, s1) * d, scratch);
    double top = -std::numeric_limits<double>::infinity();
    if (first.empty() || second.empty()) return top;
    for (std::size_t i = 0; i < s1; ++i)
        for (std::size_t l = 0; l < d; ++l) a[i * d + l] = scale * q[l] * first.key(i)[l];
    for (std::size_t start = 0; start < s1; start += kPairEstimatorRows) {
        const std::size_t rows = std::min(kPairEstimatorRows, s1 - start);
        blas::gemm(int(rows), int(s2), int(d), 1.0f, a.data() + start * d, int(d), second.keys(), int(d), true, 0.0f,
                   e.data(), int(s2));
        const double block_top = max_of(e.data(), rows * s2);
        if (block_top > top) {
            const double rescale = std::exp(top - block_top);
            for (std::size_t l = 0; l < d; ++l) acc[l] *= rescale;
            top = block_top;
        }
        exp_shifted_sum(e.data(), rows * s2, static_cast<float>(top));
        blas::gemm(int(rows), int(d), int(s2), 1.0f, e.data(), int(s2), second.values(), int(d), false, 0.0f, u.data(),
                   int(d));
        for (std::size_t i = 0; i < rows; ++i) {
            const float* v1 = first.value(start + i);
            for (std::size_t l = 0; l < d; ++l) acc[l] += static_cast<double>(v1[l]) * u[i * d + l];
        }
    }
    const double coefficient = first.total() * second.total() / (static_cast<double>(s1) * static_cast<double>(s2));
    for (std::size_t l = 0; l < d; ++l) acc[l] *= coefficient;
    return top;
}

// out = N/Z with both brought to the shared max M = max(z.max, numerator_max) first:
// N·exp(n_max − M) / (Z·exp(z_max − M)). A zero numerator (μ = 0: every value is zero) gives 0.
inline void finish(const Scaled& z, double numerator_max, const double* acc, std::size_t dim, float* out) {
    if (!(z.sum > 0) || !std::isfinite(numerator_max)) {
        std::fill(out, out + dim, 0.0f);
        return;
    }
    const double shared = std::max(z.max, numerator_max);
    const double ratio = std::exp(numerator_max - shared) / (z.sum * std::exp(z.max - shared));
    for (std::size_t l = 0; l < dim; ++l) out[l] = static_cast<float>(acc[l] * ratio);
}

}  // namespace trikv::subgen
