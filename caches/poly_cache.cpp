// poly — the polynomial method (Alman & Song 2023; docs/math.md §10, docs/theory.md): exp(s)
// is replaced by its degree-p Taylor polynomial around 0, T_p(s) = Σ_{k≤p} s^k / k!. Because
// s_ij = scale·Σ_l q_l k1_il k2_jl is trilinear, every power separates over the two streams:
//
//   Σ_ij s_ij^k (v1_i ∘ v2_j) = scale^k Σ_{l1..lk} (Π_m q_lm) · B1_k[l1..lk] ∘ B2_k[l1..lk]
//   A_k[l1..lk] = Σ_i Π_m k_i,lm          B_k[l1..lk, :] = Σ_i (Π_m k_i,lm) v_i
//
// (A1/B1 over the K1/V1 stream, A2/B2 over K2/V2; the normaliser Σ_ij s_ij^k uses A1_k·A2_k).
// The rank1 and strassen scores (docs/math.md §9) are s = a_i + b_j (+ c_ij) with a = scale·⟨q,k1⟩,
// b = scale·⟨q,k2⟩, c = scale·⟨k1,k2⟩; by the multinomial theorem T_p(s) is a sum of terms
// a^u·b^w·c^r/(u!·w!·r!), u+w+r ≤ p, and each sums over pairs to stream 1's moment of order
// u+r contracted with q on u indices, times stream 2's of order w+r contracted with q on w,
// summed over the r indices left (docs/math.md §10). The same moments serve all three.
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
//     The entries are in the depth-first order of each_multiset; multiset_rank finds one.
//   * float64 moments: they are running sums over every token (and cancel: entries are
//     signed), so float32 would lose ~n·2^-24 relative; the bytes are counted as such.
//   * Centre 0 (no running centre): the remainder bound above is then a function of B alone.
//   * A state above kMaxStateBytesPerHead is refused when the cache is made (error naming
//     degree and dim), since it would be allocated on the first append whatever n is.
//   * Odd degrees can give negative weights (1 + s < 0 for s < −1; the cubic's root is
//     s ≈ −1.596), whatever the variant. The output is still the ratio of the series, but a
//     normaliser ≤ 0 has no meaning as attention: attend throws trikv::Error then. Degree 2
//     never does (1 + s + s²/2 > 0 for every s).
//   * rank1 and strassen contract each stream's moments with the query first (the partial
//     moments P(u)[R] = Σ_{|J|=u} weight(J)·M[J ⊎ R], u ≥ 1, |R| ≤ the pair term's order: 0 for
//     rank1, p − u for strassen), then pair the two streams' partials over R: no new state.
//
//   memory  h · 2 streams · C(d+p, p) · (d + 1) float64, allocated on the first append (or
//           reserve) and returned by clear; 0 while empty, the same for every variant
//   time    append ~2·C(d+p,p)·(d+1) flops per token, head and stream; attend per query and
//           head: trilinear ~3·C(d+p,p)·(d+1), rank1 ~4·C(d+p,p)·(d+1), strassen ~4·(d+1) per
//           split of a moment's multiset (≤ 2^p each) — see attend_flops
//   scratch per concurrent head C(d+p,p) + d + 1 float64 (trilinear), plus the two streams'
//           partial moments and a running sum for rank1 and strassen — see scratch_doubles
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <string>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

constexpr std::size_t kMaxDegree = 3;
// Large enough for d = 64 at degree 3 (~50 MB per head), small enough to refuse d = 128 at
// degree 3 (~755 MB per head) before anything is allocated.
constexpr double kMaxStateBytesPerHead = 256.0 * (1 << 20);

// C(n, k), exactly: each partial product is itself a binomial, so every division is exact.
std::size_t binomial(std::size_t n, std::size_t k) {
    std::size_t c = 1;
    for (std::size_t j = 1; j <= k; ++j) c = c * (n - k + j) / j;
    return c;
}

// Number of multisets of size ≤ p over d symbols (monomials of degree ≤ p), C(d+p, p).
std::size_t monomial_count(std::size_t d, std::size_t p) { return binomial(d + p, p); }
// Number of multisets of size exactly k over d symbols, C(d+k−1, k).
double multisets_of_size(std::size_t d, std::size_t k) { return static_cast<double>(binomial(d + k - 1, k)); }

// Calls visit(l, k) for every multiset l[0] ≤ … ≤ l[k−1] of size k ≤ depth over `dim` symbols,
// depth first: a multiset, then its extensions by each symbol ≥ its last. This is the row
// order of the moments.
template <class Visit>
void each_multiset(std::size_t dim, std::size_t depth, Visit visit) {
    std::array<std::size_t, kMaxDegree> l{};
    const auto walk = [&](const auto& self, std::size_t k, std::size_t first) -> void {
        visit(l.data(), k);
        // depth ≤ kMaxDegree always; the second test shows the compiler that l[k] stays in bounds.
        if (k == depth || k == kMaxDegree) return;
        for (std::size_t v = first; v < dim; ++v) {
            l[k] = v;
            self(self, k + 1, v);
        }
    };
    walk(walk, 0, 0);
}

// Position of the multiset l[0] ≤ … ≤ l[k−1] in each_multiset(dim, depth). Each step down to
// l[t] skips the node itself and the subtrees of the siblings before it, symbols
// a = l[t−1] … l[t]−1 (a = 0 at the root), whose sizes C(dim−v+h, h) (h: depth left below
// them) sum by the hockey-stick identity to C(dim−a+h+1, h+1) − C(dim−l[t]+h+1, h+1).
std::size_t multiset_rank(const std::size_t* l, std::size_t k, std::size_t dim, std::size_t depth) {
    std::size_t rank = 0;
    for (std::size_t t = 0, previous = 0; t < k; previous = l[t++]) {
        const std::size_t h = depth - t - 1;
        rank += 1 + binomial(dim - previous + h + 1, h + 1) - binomial(dim - l[t] + h + 1, h + 1);
    }
    return rank;
}

// Π_t factor(l[t]) over a multiset l[0] ≤ … ≤ l[k−1], divided by Π_v c_v! (c_v: how often v
// occurs) when `weighted`: the Taylor coefficient 1/k! times the multinomial count k!/Π c_v!
// of the orderings one symmetric entry stands for.
template <class Factor>
double multiset_product(const std::size_t* l, std::size_t k, bool weighted, Factor factor) {
    double value = 1;
    for (std::size_t t = 0, run = 0; t < k; ++t) {
        run = t > 0 && l[t] == l[t - 1] ? run + 1 : 1;
        value *= factor(l[t]) / (weighted ? static_cast<double>(run) : 1.0);
    }
    return value;
}

class PolyCache final : public Cache {
public:
    PolyCache(const CacheShape& shape, std::size_t degree)
        : Cache(shape), degree_(degree), monomials_(monomial_count(shape.dim, degree)) {
        const double per_head = 2.0 * static_cast<double>(stream_doubles()) * sizeof(double);
        require(per_head <= kMaxStateBytesPerHead,
                "poly:degree=" + std::to_string(degree) + " at dim=" + std::to_string(shape.dim) + " needs " +
                    std::to_string(static_cast<long long>(per_head)) + " bytes of moments per head, above the limit of " +
                    std::to_string(static_cast<long long>(kMaxStateBytesPerHead)) + "; lower the degree or the dim");
        if (shape.variant == ScoreVariant::trilinear) return;
        for (std::size_t u = 1; u <= degree_; ++u) {
            partial_start_[u] = partial_rows_;
            partial_rows_ += monomial_count(shape.dim, partial_depth(u));
        }
    }

    std::string spec() const override { return "poly:degree=" + std::to_string(degree_); }

    void reserve_storage(std::size_t tokens) override {
        if (tokens > 0) allocate();
    }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double m = static_cast<double>(monomials_);
        const double row = static_cast<double>(shape_.dim + 1), workers = worker_count();
        CacheCost c;
        c.resident_bytes = tokens > 0 ? kv * 2.0 * m * row * sizeof(double) : 0;
        c.flops = h * attend_flops();
        c.bytes_moved = c.resident_bytes * static_cast<double>(shape_.group_size());
        c.transient_bytes = std::min(h, workers) * static_cast<double>(scratch_doubles()) * sizeof(double);
        return c;
    }

private:
    // Per kv head and stream, C(d+p, p) rows of (A, B[0..d)).
    std::size_t row_size() const { return shape_.dim + 1; }
    std::size_t stream_doubles() const { return monomials_ * row_size(); }
    double* moments(std::size_t head, std::size_t stream) { return state_.data() + (2 * head + stream) * stream_doubles(); }

    // The largest power r of the pair term c = scale·⟨k1, k2⟩ in T_p(s): rank1 has no pair term.
    std::size_t pair_order() const { return shape_.variant == ScoreVariant::strassen ? degree_ : 0; }
    // The size of R in the partial moments P(u)[R]: the pair term's power, at most p − u.
    std::size_t partial_depth(std::size_t u) const { return std::min(pair_order(), degree_ - u); }

    // One attend's float64 scratch per head: the query's weighted monomials and the output row
    // (A and B accumulated together), and for rank1 and strassen both streams' partial moments
    // and the running sum over the second stream's.
    std::size_t scratch_doubles() const {
        const std::size_t trilinear = monomials_ + row_size();
        return shape_.variant == ScoreVariant::trilinear ? trilinear : trilinear + (2 * partial_rows_ + 1) * row_size();
    }

    // Per query and head. Trilinear: the query's weighted monomials (~2 per entry), then w·A1·A2
    // and w·B1∘B2. rank1 and strassen: the monomials, an axpy of a moment row per split J ⊎ R
    // of its multiset (|J| = u ≥ 1, |R| ≤ partial_depth(u)) and stream, then per R of size r
    // and u ≤ p − r, a row added to the running sum and a weighted product accumulated.
    double attend_flops() const {
        const double m = static_cast<double>(monomials_), row = static_cast<double>(row_size());
        if (shape_.variant == ScoreVariant::trilinear) return 2.0 * m + 3.0 * m * row;
        const std::size_t d = shape_.dim;
        double splits = 0, pairings = 0;
        for (std::size_t u = 1; u <= degree_; ++u)
            for (std::size_t r = 0; r <= partial_depth(u); ++r) splits += multisets_of_size(d, u) * multisets_of_size(d, r);
        for (std::size_t r = 0; r <= pair_order(); ++r)
            pairings += multisets_of_size(d, r) * static_cast<double>(degree_ - r + 1);
        return 2.0 * m + 2.0 * 2.0 * splits * row + 4.0 * pairings * row;
    }

    void allocate() {
        if (state_.size() > 0) return;
        state_ = Buffer<double>(shape_.kv_heads * 2 * stream_doubles(), resident_);
        std::fill_n(state_.data(), state_.size(), 0.0);
    }

    // Keys: plain monomials Π_m x_lm. Queries: times scale^k/Π c_v! (multiset_product).
    void write_monomials(const float* x, bool weighted, double* out) const {
        const double step = weighted ? shape_.scale : 1.0;
        each_multiset(shape_.dim, degree_, [&](const std::size_t* l, std::size_t k) {
            *out++ = multiset_product(l, k, weighted, [&](std::size_t v) { return step * static_cast<double>(x[v]); });
        });
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

    // out[0..d] = Σ_E weight(E)·M1[E]∘M2[E]: the trilinear series' normaliser and numerator.
    void pair_trilinear(std::size_t kv, const double* weight, double* out) {
        const std::size_t row = row_size();
        const double* a = moments(kv, 0);
        const double* b = moments(kv, 1);
        for (std::size_t e = 0; e < monomials_; ++e, a += row, b += row)
            for (std::size_t x = 0; x < row; ++x) out[x] += weight[e] * a[x] * b[x];
    }

    // partial[P(u) block at partial_start_[u], row of R] = Σ_{|J|=u} weight(J)·M[J ⊎ R] for one
    // stream's moments M, u ≥ 1: each moment row is added once per distinct split of its multiset.
    void contract(const double* moments_of_stream, const double* weight, double* partial) const {
        const std::size_t d = shape_.dim, row = row_size();
        std::fill_n(partial, partial_rows_ * row, 0.0);
        const double* m = moments_of_stream;
        each_multiset(d, degree_, [&](const std::size_t* l, std::size_t k) {
            for (unsigned mask = 1; mask < (1u << k); ++mask) {  // bit t: l[t] goes to J
                std::array<std::size_t, kMaxDegree> j{}, r{};
                std::size_t u = 0, size_r = 0;
                bool first_split = true;
                for (std::size_t t = 0; t < k; ++t) {
                    const bool in_j = (mask >> t) & 1;
                    // Of equal symbols J takes the leftmost, so each split is counted once.
                    if (in_j && t > 0 && l[t] == l[t - 1] && !((mask >> (t - 1)) & 1)) first_split = false;
                    (in_j ? j[u++] : r[size_r++]) = l[t];
                }
                if (!first_split || size_r > partial_depth(u)) continue;
                const double w = weight[multiset_rank(j.data(), u, d, degree_)];
                double* target = partial + (partial_start_[u] + multiset_rank(r.data(), size_r, d, partial_depth(u))) * row;
                for (std::size_t x = 0; x < row; ++x) target[x] += w * m[x];
            }
            m += row;
        });
    }

    // out[0..d] = Σ_R scale^r/Π c_R! · Σ_{u+w ≤ p−r} P1(u)[R] ∘ P2(w)[R] over multisets R of size
    // r ≤ pair_order() (P(0) = M): the rank1 or strassen series (docs/math.md §10).
    void pair_mixed(std::size_t kv, const double* weight, double* partial, double* running, double* out) {
        const std::size_t d = shape_.dim, row = row_size();
        double* partial2 = partial + partial_rows_ * row;
        contract(moments(kv, 0), weight, partial);
        contract(moments(kv, 1), weight, partial2);
        each_multiset(d, pair_order(), [&](const std::size_t* r, std::size_t size_r) {
            const auto factor = [&](std::size_t stream, std::size_t u) -> const double* {
                if (u == 0) return moments(kv, stream) + multiset_rank(r, size_r, d, degree_) * row;
                return (stream == 0 ? partial : partial2) +
                       (partial_start_[u] + multiset_rank(r, size_r, d, partial_depth(u))) * row;
            };
            const double coefficient = multiset_product(r, size_r, true, [&](std::size_t) { return shape_.scale; });
            // u from p − r down to 0, with running = Σ_{w ≤ p−r−u} P2(w)[R].
            std::fill_n(running, row, 0.0);
            for (std::size_t u = degree_ - size_r + 1; u-- > 0;) {
                const double* b = factor(1, degree_ - size_r - u);
                const double* a = factor(0, u);
                for (std::size_t x = 0; x < row; ++x) {
                    running[x] += b[x];
                    out[x] += coefficient * a[x] * running[x];
                }
            }
        });
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        const std::size_t d = shape_.dim, width = shape_.query_width();
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            const std::size_t kv = shape_.kv_head_of(head);
            Buffer<double> scratch(scratch_doubles(), transient_);
            double* weight = scratch.data();
            double* sums = weight + monomials_;  // normaliser, then the numerator's d values
            double* partial = sums + row_size();
            double* running = partial + 2 * partial_rows_ * row_size();
            for (std::size_t r = 0; r < count; ++r) {
                write_monomials(q + r * width + head * d, true, weight);
                std::fill_n(sums, row_size(), 0.0);
                if (shape_.variant == ScoreVariant::trilinear)
                    pair_trilinear(kv, weight, sums);
                else
                    pair_mixed(kv, weight, partial, running, sums);
                const double normaliser = sums[0];
                require(normaliser > 0, "poly:degree=" + std::to_string(degree_) + ", variant=" +
                                            variant_name(shape_.variant) + ": the truncated-series normaliser is " +
                                            std::to_string(normaliser) +
                                            " <= 0 (an odd degree weights very negative scores below 0); use degree=2 "
                                            "or smaller scores");
                float* o = out + r * width + head * d;
                for (std::size_t l = 0; l < d; ++l) o[l] = static_cast<float>(sums[1 + l] / normaliser);
            }
        });
    }

    void clear_storage() override { state_ = Buffer<double>(); }

    std::size_t degree_, monomials_;
    // rank1 and strassen: rows of one stream's partial moments, and where each P(u) starts.
    std::size_t partial_rows_ = 0;
    std::array<std::size_t, kMaxDegree + 1> partial_start_{};
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
    .variants = all_variants,  // every score is a sum of power-separable terms (docs/math.md §10)
    // Under a budget: a higher degree keeps more of the series (its state grows like d^(p+1)).
    .accuracy_ladder = [](const CacheConfig& config, const BudgetScope& scope) {
        std::vector<std::string> ladder;
        for (std::size_t degree = 1; double(degree) <= scope.most("degree", double(kMaxDegree)); ++degree)
            ladder.push_back(config.with({{"degree", std::to_string(degree)}}));
        return ladder;
    },
});

}  // namespace
}  // namespace trikv
