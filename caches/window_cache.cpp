// window — sliding-window tensor attention, the allowed set of 2-simplicial attention (Roy et
// al. 2025, docs/math.md §2): the query at step t attends the pairs i ∈ (t−w1, t], j ∈ (t−w2, t]. It
// computes that set exactly, but it is not full tensor attention once t ≥ min(w1, w2), so it
// registers as approximate (exact = false).
//
// Storage per head: K1, V1 keep the last w1 tokens and K2, V2 the last w2, each as a ring in
// a RowStore: token t lives in row t mod w. Softmax over pairs is a set function, so the ring's
// rows need no reordering: the live rows are always [0, min(t+1, w)) and the fused kernel
// (tensor_decode) runs over them as is. Chunks of min(w, kPairTileRows) rows keep every K2/V2
// tile contiguous and grow lazily up to the ring's capacity, so a window larger than the
// sequence costs no more than the factors it holds.
//
//   memory  h·2·(R(min(t+1, w1), w1) + R(min(t+1, w2), w2))·d floats,
//           R(r, w) = ⌈r / c⌉·c, c = min(w, 256)       (= 2(w1+w2)d per head once t+1 ≥ w1, w2,
//                                                       when each w is ≤ 256 or a multiple of it)
//   time    ~4·min(t+1, w1)·min(t+1, w2)·d flops per query head and step, O(d) per append.
//
// Rings are kept per kv head; a group's query heads are served by one kernel call.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <string>
#include <vector>

#include "attention/tensor_attention.hpp"
#include "caches/budget.hpp"
#include "caches/registry.hpp"
#include "caches/row_store.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

enum Stream { k1 = 0, k2 = 1, v1 = 2, v2 = 3 };

class WindowCache final : public Cache {
public:
    WindowCache(const CacheShape& shape, std::size_t w1, std::size_t w2) : Cache(shape), w1_(w1), w2_(w2) {
        rings_.reserve(4 * shape.kv_heads);
        for (std::size_t i = 0; i < 4 * shape.kv_heads; ++i) {
            const std::size_t w = window(static_cast<Stream>(i % 4));
            rings_.emplace_back(shape.dim, std::min(w, kPairTileRows), resident_);
        }
    }

    std::string spec() const override {
        return "window:w1=" + std::to_string(w1_) + ",w2=" + std::to_string(w2_);
    }

    void reserve_storage(std::size_t tokens) override {
        for (std::size_t i = 0; i < rings_.size(); ++i)
            rings_[i].reserve(std::min(tokens, window(static_cast<Stream>(i % 4))));
    }

    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), kv = static_cast<double>(shape_.kv_heads);
        const double d = static_cast<double>(shape_.dim), f = sizeof(float);
        const std::size_t r1 = std::min(tokens, w1_), r2 = std::min(tokens, w2_);
        const double workers = worker_count();
        CacheCost c;
        // rings_[0] is kv head 0's K1 ring (capacity w1), rings_[1] its K2 ring (capacity w2).
        c.resident_bytes = kv * 2.0 * static_cast<double>(rings_[k1].bytes_for(r1) + rings_[k2].bytes_for(r2));
        c.flops = 4.0 * static_cast<double>(r1) * static_cast<double>(r2) * d * h;
        c.bytes_moved = 2.0 * static_cast<double>(r1 + r2) * d * f * kv;  // once per group
        // Same kernel as factor:strategy=fused: one tile set per worker.
        c.transient_bytes = workers * (kPairBlockRows * (2 * d + kPairTileRows + 2) + 2 * d) * f;
        return c;
    }

private:
    std::size_t window(Stream s) const { return s == k1 || s == v1 ? w1_ : w2_; }

    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t t, auto... rows) { push(t, rows...); });
    }

    void push(std::size_t t, const float* k1_in, const float* k2_in, const float* v1_in, const float* v2_in) {
        const float* inputs[4] = {k1_in, k2_in, v1_in, v2_in};
        const std::size_t d = shape_.dim;
        for (std::size_t i = 0; i < rings_.size(); ++i) {
            RowStore<float>& ring = rings_[i];
            const std::size_t slot = t % window(static_cast<Stream>(i % 4));
            // Until the ring is full the slot is the next row; then it is the row of the token
            // that just left the window.
            float* row = slot == ring.rows() ? ring.append_row() : ring.row(slot);
            std::copy_n(inputs[i % 4] + (i / 4) * d, d, row);
        }
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    // One token's queries: each kv head's g query heads are contiguous, one batched kernel call.
    void attend_one(const float* q, float* out) {
        tbb::parallel_for(std::size_t(0), shape_.kv_heads, [&](std::size_t kv) {
            const RowStore<float>* ring = &rings_[4 * kv];
            const std::size_t first = kv * shape_.group_size() * shape_.dim;
            tensor_decode(shape_.group_size(), q + first, ring[k1].stored(), ring[k2].stored(), ring[v1].stored(),
                          ring[v2].stored(), static_cast<float>(shape_.scale), out + first, transient_,
                          shape_.variant);
        });
    }

    void clear_storage() override {
        for (RowStore<float>& ring : rings_) ring.clear();
    }

    std::size_t w1_, w2_;
    std::vector<RowStore<float>> rings_;  // [kv head][k1, k2, v1, v2]
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "window",
    .description = "sliding window (2-simplicial): pairs i in (t-w1, t], j in (t-w2, t]; rings of the last w1/w2 factor rows",
    .exact = false,  // exact over its window, but an approximation of full tensor attention
    .params = {{.name = "w1", .default_value = "64", .description = "tokens of K1/V1 each query sees (i-side window)",
                .choices = {}, .min = 1, .max = 1 << 24, .integer = true},
               {.name = "w2", .default_value = "64", .description = "tokens of K2/V2 each query sees (j-side window)",
                .choices = {}, .min = 1, .max = 1 << 24, .integer = true}},
    .make = [](const CacheConfig& config, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<WindowCache>(shape, static_cast<std::size_t>(config.integer("w1")),
                                             static_cast<std::size_t>(config.integer("w2")));
    },
    // Windows as wide as the sequence cover the whole square.
    .exact_regime = [](std::size_t tokens) {
        const std::string w = std::to_string(std::max<std::size_t>(tokens, 1));
        return "window:w1=" + w + ",w2=" + w;
    },
    .variants = all_variants,  // the fused kernel computes each
    // Under a budget: w1, w2 in 1, 2, 4, … up to the sequence (a wider window adds no pair);
    // more pairs covered is more accurate, then the wider i-side window.
    .accuracy_ladder = [](const CacheConfig& config, const BudgetScope& scope) {
        const double tokens = double(scope.tokens);
        std::vector<std::pair<std::size_t, std::size_t>> windows;
        for (std::size_t w1 : powers_up_to(scope.most("w1", tokens)))
            for (std::size_t w2 : powers_up_to(scope.most("w2", tokens))) windows.push_back({w1, w2});
        std::sort(windows.begin(), windows.end(), [](const auto& a, const auto& b) {
            return std::pair(a.first * a.second, a.first) < std::pair(b.first * b.second, b.first);
        });
        std::vector<std::string> ladder;
        for (const auto& window : windows)
            ladder.push_back(config.with({{"w1", std::to_string(window.first)}, {"w2", std::to_string(window.second)}}));
        return ladder;
    },
});

}  // namespace
}  // namespace trikv
