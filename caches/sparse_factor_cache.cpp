// sparse-factor — the four-cache (factor) for sparse keys and values: K1, K2, V1, V2 kept as
// compressed rows (caches/sparse_rows.hpp: uint16 index + float value per non-zero, a uint16
// count per row). With s non-zeros per row it holds about 4(t+1)·(6s + 2) bytes per head
// instead of 4(t+1)·4d, and one attend does O((t+1)²·s) multiply-adds (plus (t+1)²
// exponentials) instead of O((t+1)²·d): docs/math.md §3 computed over the non-zeros only. For a block
// of B rows i at a time:
//
//   W = scale·(q ∘ k1_i) for the B rows, scattered into a dense d × B matrix;
//   for every j:  s_ij = Σ_{l ∈ supp k2_j} k2_jl · W[l, i]     (s multiply-adds of B-vectors)
//                 online softmax per row i (running max and normaliser, by tiles of j),
//                 U[l, i] += p_ij · v2_jl for l ∈ supp v2_j     (s multiply-adds of B-vectors)
//   then          o += Σ_i v1_i ∘ U[:, i], the B rows' partials merged into one.
//
// The B-vectors make the inner loops vectorise (B = 16 floats: one AVX-512 or two AVX2
// registers) and each K2/V2 row is read once per block instead of once per row i. Blocks run
// in parallel; each worker keeps O(d·B + tile·B) scratch and workers merge softmax partials
// (attention/softmax.hpp), so no (t+1)² or (t+1)·d buffer is ever formed.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "attention/softmax.hpp"
#include "caches/registry.hpp"
#include "caches/sparse_factor_streams.hpp"
#include "framework/simd.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {

constexpr std::size_t kEntryChunk = 1024;  // entries per chunk: 6 KiB, small slack at small t
constexpr std::size_t kRowChunk = 256;     // rows per count chunk
constexpr std::size_t kBlockRows = 16;     // rows i per block: the vector width of the inner loops
constexpr std::size_t kTileRows = 64;      // rows j scored before one exponential pass

using Streams = SparseFactorStreams;

// One worker's scratch, all charged to the cache's transient meter.
struct BlockScratch {
    Buffer<float> w, v1, u;       // d × B each: scale·q∘k1_i, v1_i, and Σ_j p_ij v2_j, column i
    Buffer<float> scores;         // kTileRows × B: s_ij, then exp(s_ij − max_i)
    Buffer<float> max, norm, grow;  // B each: running max and normaliser of row i, rescale factors
    Buffer<float> acc;            // d: the block's merged output accumulator

    BlockScratch(std::size_t d, MemoryMeter& meter)
        : w(d * kBlockRows, meter), v1(d * kBlockRows, meter), u(d * kBlockRows, meter),
          scores(kTileRows * kBlockRows, meter), max(kBlockRows, meter), norm(kBlockRows, meter),
          grow(kBlockRows, meter), acc(d, meter) {}
    static std::size_t bytes(std::size_t d) {
        return (3 * d * kBlockRows + kTileRows * kBlockRows + 3 * kBlockRows + d) * sizeof(float);
    }
};

// B floats as one value (GCC vector extension): the loops over the B rows of a block become
// single vector operations of the clone's width (AVX-512: one; AVX2: two; SSE: four).
using Lanes = float __attribute__((vector_size(kBlockRows * sizeof(float))));
inline void load(Lanes& to, const float* from) { std::memcpy(&to, from, sizeof(Lanes)); }
inline void store(float* to, const Lanes& from) { std::memcpy(to, &from, sizeof(Lanes)); }

// Folds the pairs (i, j), i in the next `rows_i` rows of k1/v1 (readers positioned there), j
// over all `rows_j` rows of k2/v2, into `partial`. One dispatched call per block: the loops
// over B inside vectorise at the machine's width (framework/simd.hpp).
TRIKV_SIMD_CLONES void fold_row_block(const float* q, float scale, std::size_t d, std::size_t rows_i, std::size_t rows_j,
                                      SparseRows::Reader& k1, SparseRows::Reader& v1, SparseRows::Reader& k2,
                                      SparseRows::Reader& v2, BlockScratch& scratch, SoftmaxPartial<float>& partial) {
    constexpr std::size_t B = kBlockRows;
    float *W = scratch.w.data(), *V1 = scratch.v1.data(), *U = scratch.u.data(), *S = scratch.scores.data();
    float *max = scratch.max.data(), *norm = scratch.norm.data(), *grow = scratch.grow.data();
    std::fill_n(W, d * B, 0.0f);
    std::fill_n(V1, d * B, 0.0f);
    std::fill_n(U, d * B, 0.0f);
    for (std::size_t i = 0; i < rows_i; ++i) {
        const SparseRow k = k1.next();
        for (std::size_t e = 0; e < k.count; ++e) W[k.index[e] * B + i] = scale * q[k.index[e]] * k.value[e];
        const SparseRow v = v1.next();
        for (std::size_t e = 0; e < v.count; ++e) V1[v.index[e] * B + i] = v.value[e];
    }
    // Rows past rows_i (a short last block) score 0 against everything and are left out below.
    for (std::size_t i = 0; i < B; ++i) max[i] = -std::numeric_limits<float>::infinity(), norm[i] = 0;
    k2.seek(0);
    v2.seek(0);
    for (std::size_t j0 = 0; j0 < rows_j; j0 += kTileRows) {
        const std::size_t tile = std::min(kTileRows, rows_j - j0);
        for (std::size_t j = 0; j < tile; ++j) {
            // Two accumulators: the FMA chain's latency, not its throughput, bounds one.
            Lanes even = {}, odd = {}, w;
            const SparseRow k = k2.next();
            std::size_t e = 0;
            for (; e + 1 < k.count; e += 2) {
                load(w, W + k.index[e] * B);
                even += k.value[e] * w;
                load(w, W + k.index[e + 1] * B);
                odd += k.value[e + 1] * w;
            }
            if (e < k.count) {
                load(w, W + k.index[e] * B);
                even += k.value[e] * w;
            }
            store(S + j * B, even + odd);
        }
        // New running maxima; where one grows, the row's normaliser and U column shrink.
        Lanes top, old_max, s;
        load(old_max, max);
        top = old_max;
        for (std::size_t j = 0; j < tile; ++j) {
            load(s, S + j * B);
            top = top > s ? top : s;
        }
        store(max, top);
        bool grew = false;
        for (std::size_t i = 0; i < B; ++i) {
            grew |= top[i] > old_max[i];
            grow[i] = std::exp(old_max[i] - top[i]);  // exp(−∞) = 0 on the first tile
            norm[i] *= grow[i];
        }
        if (grew) {
            Lanes shrink, u;
            load(shrink, grow);
            for (std::size_t l = 0; l < d; ++l) {
                load(u, U + l * B);
                store(U + l * B, u * shrink);
            }
        }
        for (std::size_t j = 0; j < tile; ++j) {
            load(s, S + j * B);
            store(S + j * B, s - top);
        }
        exp_shifted_sum(S, tile * B, 0.0f);
        Lanes sum;
        load(sum, norm);
        for (std::size_t j = 0; j < tile; ++j) {
            Lanes p, u;
            load(p, S + j * B);  // p_ij for the B rows i
            sum += p;
            const SparseRow v = v2.next();
            for (std::size_t e = 0; e < v.count; ++e) {
                float* column = U + v.index[e] * B;
                load(u, column);
                store(column, u + v.value[e] * p);
            }
        }
        store(norm, sum);
    }
    // The block's rows as one partial: rescaled to their common max, o = Σ_i v1_i ∘ U[:, i].
    float block_max = -std::numeric_limits<float>::infinity(), total = 0;
    for (std::size_t i = 0; i < rows_i; ++i) block_max = std::max(block_max, max[i]);
    for (std::size_t i = 0; i < B; ++i) {
        grow[i] = i < rows_i ? std::exp(max[i] - block_max) : 0.0f;
        total += grow[i] * norm[i];
    }
    float* acc = scratch.acc.data();
    for (std::size_t l = 0; l < d; ++l) {
        float sum = 0;
        for (std::size_t i = 0; i < B; ++i) sum += grow[i] * V1[l * B + i] * U[l * B + i];
        acc[l] = sum;
    }
    partial.merge(block_max, total, acc);
}

// Folds blocks of rows i of one head into a partial softmax over the pairs (i, j), j < t+1.
class RowBlockReducer {
public:
    RowBlockReducer(const float* q, const Streams& streams, std::size_t head, float scale, MemoryMeter& scratch)
        : q_(q), streams_(streams), head_(head), scale_(scale), meter_(scratch), result_(streams.dim(), scratch),
          scratch_(streams.dim(), scratch), k1_(stream(Streams::k1), scratch), k2_(stream(Streams::k2), scratch),
          v1_(stream(Streams::v1), scratch), v2_(stream(Streams::v2), scratch) {}
    RowBlockReducer(RowBlockReducer& other, tbb::split)
        : RowBlockReducer(other.q_, other.streams_, other.head_, other.scale_, other.meter_) {}

    void operator()(const tbb::blocked_range<std::size_t>& blocks) {
        const std::size_t rows = stream(Streams::k1).rows();
        for (std::size_t block = blocks.begin(); block != blocks.end(); ++block) {
            const std::size_t begin = block * kBlockRows;
            k1_.seek(begin);
            v1_.seek(begin);
            fold_row_block(q_, scale_, streams_.dim(), std::min(kBlockRows, rows - begin), rows, k1_, v1_, k2_, v2_,
                           scratch_, result_);
        }
    }
    void join(const RowBlockReducer& other) { result_.merge(other.result_); }
    const SoftmaxPartial<float>& result() const { return result_; }
    // Scratch bytes of one reducer, for the cost model.
    static std::size_t bytes(std::size_t d) {
        return d * sizeof(float) + BlockScratch::bytes(d) + 4 * d * SparseRows::kEntryBytes;
    }

private:
    const SparseRows& stream(Streams::Stream s) const { return streams_.store(head_, s); }

    const float* q_;
    const Streams& streams_;
    std::size_t head_;
    float scale_;
    MemoryMeter& meter_;
    SoftmaxPartial<float> result_;
    BlockScratch scratch_;
    SparseRows::Reader k1_, k2_, v1_, v2_;
};

class SparseFactorCache final : public Cache {
public:
    explicit SparseFactorCache(const CacheShape& shape)
        : Cache(shape), factors_(shape.kv_heads, shape.dim, kEntryChunk, kRowChunk, resident_) {}

    std::string spec() const override { return "sparse-factor"; }
    // Only the per-row counts can be allocated ahead: the entries depend on the data.
    void reserve_storage(std::size_t tokens) override { factors_.reserve_rows(tokens); }

    // At the observed densities ρ (stored entries / (rows·d) per stream; 1 before any token):
    // resident bytes by the chunk formula (caches/sparse_rows.hpp) at ρ·d·n entries per stream
    // and kv head (each head's own ρ, so exactly bytes() at the current size); flops
    // 2n²·d·(ρ_k2 + ρ_v2) per query head (a multiply-add per stored K2 and V2 entry and row i; the
    // padding of a short last block is not counted); bytes moved = the storage, read once (each
    // K2/V2 row is re-read once per block of 16 rows i, from cache when the streams fit);
    // transient = one reducer's scratch per worker.
    CacheCost cost(std::size_t tokens) const override {
        const double h = static_cast<double>(shape_.heads), d = static_cast<double>(shape_.dim);
        const double n = static_cast<double>(tokens);
        CacheCost c;
        c.resident_bytes = factors_.expected_bytes(tokens);
        c.flops = 2.0 * n * n * d * (factors_.density(Streams::k2) + factors_.density(Streams::v2)) * h;
        c.bytes_moved = c.resident_bytes;
        c.transient_bytes = double(worker_count()) * double(RowBlockReducer::bytes(shape_.dim));
        return c;
    }

private:
    void append_tokens(std::size_t count, const float* k1, const float* k2, const float* v1, const float* v2) override {
        each_token(count, k1, k2, v1, v2, [this](std::size_t, auto... rows) { factors_.append(rows...); });
    }

    void attend_tokens(std::size_t count, const float* q, float* out) override {
        each_query(count, q, out, [this](const float* one, float* to) { attend_one(one, to); });
    }

    void attend_one(const float* q, float* out) {
        const std::size_t d = shape_.dim, blocks = (size() + kBlockRows - 1) / kBlockRows;
        const float scale = static_cast<float>(shape_.scale);
        tbb::parallel_for(std::size_t(0), shape_.heads, [&](std::size_t head) {
            RowBlockReducer reducer(q + head * d, factors_, shape_.kv_head_of(head), scale, transient_);
            tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, blocks), reducer);
            reducer.result().finish(out + head * d);
        });
    }

    void clear_storage() override { factors_.clear(); }

    Streams factors_;
};

[[maybe_unused]] const bool registered = register_cache({
    .name = "sparse-factor",
    .description = "four-cache for sparse rows: K1, K2, V1, V2 as compressed rows (uint16 index + float per "
                   "non-zero); attend O(t²·s)",
    .exact = true,
    .params = {},
    .make = [](const CacheConfig&, const CacheShape& shape) -> std::unique_ptr<Cache> {
        return std::make_unique<SparseFactorCache>(shape);
    },
});

}  // namespace
}  // namespace trikv
