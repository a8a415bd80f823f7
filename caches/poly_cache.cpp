// poly — the polynomial method (Alman & Song 2023; docs/math.md §2, docs/theory.md): exp(s)
// is replaced by its degree-p Taylor polynomial around 0, w(s) = Σ_{k≤p} s^k / k!. Because
// s_ij = scale·Σ_l q_l k1_il k2_jl is trilinear, every power separates over the two streams:
//
//   Σ_ij s_ij^k (v1_i ∘ v2_j) = scale^k Σ_{l1..lk} (Π_m q_lm) · B1_k[l1..lk] ∘ B2_k[l1..lk]
//   A_k[l1..lk] = Σ_i Π_m k_i,lm          B_k[l1..lk, :] = Σ_i (Π_m k_i,lm) v_i
//
// (A1/B1 over the K1/V1 stream, A2/B2 over K2/V2; the normaliser Σ_ij s_ij^k uses A1_k·A2_k).
// So the cache keeps these moments and nothing n-sized: state, append and attend are all
// O(d^(p+1)) per head, independent of the number of tokens. It computes the truncated series
// exactly (up to rounding), which approximates softmax attention only while the scores are
// small: the weight error is at most e^B·B^(p+1)/(p+1)! for B = max|s|, so it is approximate
// (exact = false).
//
// Choices:
//   * Symmetric storage: a moment is symmetric in its indices, so one entry per multiset
//     l1 ≤ … ≤ lk; the ordered sum becomes a sum over multisets times the multinomial count
//     k!/Π c_v!. Degrees 0..p together have C(d+p, p) entries (d = 64, p = 3: 47 905 instead
//     of the 266 305 of dense d^k storage), each with its A (one value) and B (d values).
//   * float64 moments: they are running sums over every token (and cancel: entries are
//     signed), so float32 would lose ~n·2^-24 relative; the bytes are counted as such.
//   * Centre 0 (no running centre): the remainder bound above is then a function of B alone.
//   * A state above kMaxStateBytesPerHead is refused when the cache is made (error naming
//     degree and dim), since it would be allocated on the first append whatever n is.
//   * Odd degrees can give negative weights (1 + s < 0 for s < −1; the cubic's root is
//     s ≈ −1.596). The output is still the ratio of the series, but a normaliser ≤ 0 has no
//     meaning as attention: attend throws trikv::Error then. Degree 2 never does (1 + s + s²/2
//     > 0 for every s).
//   * Only the trilinear score of docs/math.md §2: the cache shape carries no other variant.
//
//   memory  h · 2 streams · C(d+p, p) · (d + 1) float64, allocated on the first append (or
//           reserve) and returned by clear; 0 while empty
//   time    append ~2·C(d+p,p)·(d+1) flops per token, head and stream; attend ~3·C(d+p,p)·(d+1)
//           per query and head; transient C(d+p,p) + d float64 per concurrent head
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

constexpr long kMaxDegree = 3;
// Large enough for d = 64 at degree 3 (~50 MB per head), small enough to refuse d = 128 at
// degree 3 (~755 MB per head) before anything is allocated.
constexpr double kMaxStateBytesPerHead = 256.0 * (1 << 20);

// Number of monomials of degree ≤ p in d variables, C(d+p, p).
std::size_t monomial_count(std::size_t d, std::size_t p) {
    double count = 1;
    for (std::size_t k = 1; k <= p; ++k) count = count * static_cast<double>(d + k) / static_cast<double>(k);
    return static_cast<std::size_t>(std::llround(count));
}

// Writes the monomials Π_m x_lm of every multiset l1 ≤ … ≤ lk, k ≤ degree, in one fixed
// (depth-first) order, each times step^k / Π_v c_v! where c_v counts v in the multiset.
// Keys use step = 1 without the factorials (plain monomials); queries use step = scale with
// them, which is the Taylor coefficient scale^k/k! times the multinomial count k!/Π c_v!.
struct MonomialWriter {
    const float* x;
    std::size_t dim;
    double step;
    bool weighted;
    double* out;

    void write(double value, std::size_t first, double run, std::size_t degree_left) {
        *out++ = value;
        if (degree_left == 0) return;
        for (std::size_t l = first; l < dim; ++l) {
            // Repeating the last variable (l == first, after the root) extends its run c_v.
            const double divide = weighted && l == first ? run + 1 : 1;
            write(value * x[l] * step / divide, l, l == first ? run + 1 : 1, degree_left - 1);
        }
    }
};

class PolyCache final : public Cache {
public:
    PolyCache(const CacheShape& shape, std::size_t degree)
        : Cache(shape), degree_(degree), monomials_(monomial_count(shape.dim, degree)) {
        const double per_head = 2.0 * static_cast<double>(stream_doubles()) * sizeof(double);
        require(per_head <= kMaxStateBytesPerHead,
                "poly:degree=" + std::to_string(degree) + " at dim=" + std::to_string(shape.dim) + " needs " +
                    std::to_string(static_cast<long long>(per_head)) + " bytes of moments per head, above the limit of " +
                    std::to_string(static_cast<long long>(kMaxStateBytesPerHead)) + "; lower the degree or the dim");
    }

    std::string spec() const override { return "poly:degree=" + std::to_string(degree_); }

    void reserve(std::size_t tokens) override {
        if (tokens > 0) allocate();
    }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double m = static_cast<double>(monomials_);
        const double row = static_cast<double>(shape_.dim + 1), workers = worker_count();
        CacheCost c;
        c.resident_bytes = tokens > 0 ? kv * 2.0 * m * row * sizeof(double) : 0;
        // Per query head: the query's weighted monomials (~2 per entry), then w·A1·A2 and w·B1∘B2,
        // reading its kv head's moments.
        c.flops = h * (2.0 * m + 3.0 * m * row);
        c.bytes_moved = c.resident_bytes * static_cast<double>(shape_.group_size());
        c.transient_bytes = std::min(h, workers) * (m + static_cast<double>(shape_.dim)) * sizeof(double);
        return c;
    }

private:
    // Per kv head and stream, C(d+p, p) rows of (A, B[0..d)).
    std::size_t stream_doubles() const { return monomials_ * (shape_.dim + 1); }
    double* moments(std::size_t head, std::size_t stream) { return state_.data() + (2 * head + stream) * stream_doubles(); }

    void allocate() {
        if (state_.size() > 0) return;
        state_ = Buffer<double>(shape_.kv_heads * 2 * stream_doubles(), resident_);
        std::fill_n(state_.data(), state_.size(), 0.0);
    }

    void write_monomials(const float* x, bool weighted, double* out) const {
        MonomialWriter{x, shape_.dim, weighted ? shape_.scale : 1.0, weighted, out}.write(1.0, 0, 0, degree_);
    }

    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        allocate();
        const std::size_t d = shape_.dim, width = shape_.kv_width();
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t head) {
            Buffer<double> monomial(monomials_, transient_);
            for (std::size_t t = 0; t < count; ++t)
                for (std::size_t stream = 0; stream < 2; ++stream) {
                    const std::size_t at = t * width + head * d;
                    write_monomials((stream == 0 ? k1 : k2) + at, false, monomial.data());
                    const float* v = (stream == 0 ? v1 : v2) + at;
                    double* row = moments(head, stream);
                    for (std::size_t e = 0; e < monomials_; ++e, row += d + 1) {
                        const double m = monomial[e];
                        row[0] += m;
                        for (std::size_t l = 0; l < d; ++l) row[1 + l] += m * static_cast<double>(v[l]);
                    }
                }
        });
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        const std::size_t d = shape_.dim, width = shape_.query_width();
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            const std::size_t kv = shape_.kv_head_of(head);
            // The query's weighted monomials, then the output row accumulated in float64.
            Buffer<double> scratch(monomials_ + d, transient_);
            double* weight = scratch.data();
            double* numerator = weight + monomials_;
            for (std::size_t r = 0; r < count; ++r) {
                write_monomials(q + r * width + head * d, true, weight);
                double normaliser = 0;
                std::fill_n(numerator, d, 0.0);
                const double* a = moments(kv, 0);
                const double* b = moments(kv, 1);
                for (std::size_t e = 0; e < monomials_; ++e, a += d + 1, b += d + 1) {
                    const double w = weight[e];
                    normaliser += w * a[0] * b[0];
                    for (std::size_t l = 0; l < d; ++l) numerator[l] += w * a[1 + l] * b[1 + l];
                }
                require(normaliser > 0, "poly:degree=" + std::to_string(degree_) + ": the truncated-series normaliser is " +
                                            std::to_string(normaliser) +
                                            " <= 0 (an odd degree weights very negative scores below 0); use degree=2 "
                                            "or smaller scores");
                float* o = out + r * width + head * d;
                for (std::size_t l = 0; l < d; ++l) o[l] = static_cast<float>(numerator[l] / normaliser);
            }
        });
    }

    void clear_storage() override { state_ = Buffer<double>(); }

    std::size_t degree_, monomials_;
    Buffer<double> state_;  // [kv head][stream K1/V1, K2/V2][monomial][A, B_0..B_{d-1}]
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "poly",
    .description = "polynomial method: exp(s) as its degree-p Taylor series; per-stream moment tensors, O(d^(p+1)) state and step",
    .exact = false,  // exact for the truncated series only; its error grows like B^(p+1)
    .params = {{.name = "degree", .default_value = "2", .description = "degree p of the Taylor polynomial of exp around 0",
                .choices = {}, .min = 1, .max = kMaxDegree, .integer = true}},
    .make = [](const CacheConfig& config, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<PolyCache>(shape, static_cast<std::size_t>(config.integer("degree")));
    },
});

}  // namespace
}  // namespace trikv
