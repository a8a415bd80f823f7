#include "attention/tensor_attention.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "attention/blas.hpp"
#include "attention/pair_tile_bf16.hpp"
#include "attention/pair_tile_kernel.hpp"
#include "attention/softmax.hpp"
#include "framework/error.hpp"
#include "framework/threads.hpp"

namespace trikv {
namespace {


// Queries served together by one pass over the pair blocks: their rows of A are stacked, so
// each K2/V2 tile feeds one GEMM of up to kStackedRows rows instead of one per query (and is
// read from cache once for the group). 256 keeps the group's score tile at 256×256 floats.
// With 128 or more K1 rows that is 2 queries a group; with fewer rows, more queries: a single
// all-ones K1 row (matrix attention as tensor attention: matrix_decode of several queries) stacks
// 256.
constexpr std::size_t kStackedRows = 256;
static_assert(kStackedRows <= pair_tile::kMaxRows);

std::size_t queries_per_group(std::size_t k1_rows) {
    return std::max<std::size_t>(1, kStackedRows / std::clamp<std::size_t>(k1_rows, 1, kPairBlockRows));
}

// Work items one call should offer: two per worker, so TBB can balance them.
std::size_t parallel_slack() { return 2 * static_cast<std::size_t>(worker_count()); }

// Rows i per block: kPairBlockRows (128, 7–10% faster than 64 on large caches) once every
// worker gets at least two blocks; half that below, so a small cache still splits across the
// workers (a 128-token window with 128-row blocks was one task: 1.8× slower on two cores).
// Scratch is sized for kPairBlockRows either way, so the transient bytes do not depend on n.
std::size_t pair_block_rows(std::size_t rows) {
    return rows >= parallel_slack() * kPairBlockRows ? kPairBlockRows : kPairBlockRows / 2;
}

// Columns j per work item. A call with fewer row blocks than `wanted_items` (a windowed head: 32
// K1 rows are one block) also splits K2 into runs of whole tiles, so every worker gets pairs:
// the pairs of a block and a column run fold into a partial of their own, merged like any other.
std::size_t pair_item_cols(std::size_t blocks, std::size_t cols, std::size_t wanted_items) {
    const std::size_t tiles = (cols + kPairTileRows - 1) / kPairTileRows;
    const std::size_t runs = std::min(tiles, (wanted_items + blocks - 1) / blocks);
    if (runs <= 1) return cols;
    return (tiles + runs - 1) / runs * kPairTileRows;
}

// A group of queries of one head. Query r may use pairs [0, limit_r)² on
// top of the views' own bounds (causal prefill); no limits = every pair of the views.
template <Scalar T>
struct QueryGroup {
    const T* q = nullptr;                  // count rows of d
    const std::size_t* limits = nullptr;   // count entries, or nullptr
    std::size_t count = 1;

    std::size_t limit(std::size_t r, std::size_t rows) const {
        return limits ? std::min(limits[r], rows) : rows;
    }
};

// The per-worker state of the decode kernel: each query's partial softmax over the row blocks
// it has processed, plus scratch tiles. TBB splits a body only when work is stolen, so there
// are about as many bodies (and scratch sets) as threads. Rows are stored as S and computed
// in T: with S = T the kernel reads the storage in place; otherwise (reduced formats,
// T = float) a block's K1 rows, later its V1 rows, and each K2/V2 tile are decoded into tiles
// of scratch, and the float path runs on those.
//
// A work item is a block of K1 rows and a run of K2 columns (pair_item_cols). In it, query r
// owns the stacked rows [first_[r], first_[r] + rows_[r]) of A, S and U: its valid K1 rows of
// the block. Columns past its limit get probability 0.
//
// Float rows run the register-tiled kernel (attention/pair_tile_kernel.hpp) where the CPU has
// it: A, S and U are then stored in its lane panels. Otherwise (double, or no AVX2/FMA) two
// BLAS GEMMs per tile on row-major A, S, U.
// How a pair tile is computed, chosen once per call (decode_group) and fixed in the reducer's
// type: two BLAS GEMMs on row-major A, S, U; the register-tiled f32 kernel on lane panels
// (attention/pair_tile_kernel.hpp); or its bf16 dot-product form (attention/pair_tile_bf16.hpp).
// The score variant is fixed in the type the same way, so no tile loop asks for it.
enum class TilePath { blas, lanes, bf16_dots };

template <Scalar T, class S, TilePath kPath, ScoreVariant kVariant>
class PairBlockReducer {
    static constexpr bool kDecodes = !std::is_same_v<S, T>;
    static constexpr bool kLanePanels = kPath != TilePath::blas;
    // rank1 and strassen add scale·⟨q, k1_i⟩ per row and scale·⟨q, k2_j⟩ per column.
    static constexpr bool kQueryTerms = kVariant != ScoreVariant::trilinear;
    static_assert(!kLanePanels || std::is_same_v<T, float>, "the tiled kernels are float");
    static_assert(kPath != TilePath::bf16_dots || std::is_same_v<S, bf16>, "bf16 dot products read bf16 rows");
    static_assert(!kQueryTerms || kPath == TilePath::blas, "query terms are added on the BLAS path's row-major S");

public:
    PairBlockReducer(const QueryGroup<T>& group, const StoredRows<S>& k1, const StoredRows<S>& k2,
                     const StoredRows<S>& v1, const StoredRows<S>& v2, T scale, std::size_t block_rows,
                     std::size_t item_cols, const pair_tile::Kernels& tiles, MemoryMeter& scratch)
        : group_(group), k1_(k1), k2_(k2), v1_(v1), v2_(v2), scale_(scale), block_rows_(block_rows),
          item_cols_(item_cols), tiles_(tiles), meter_(scratch),
          rows_per_query_(std::min(k1.rows(), kPairBlockRows)),
          scaled_k1_(matrix_floats(k1.dim()), scratch),
          scores_(matrix_floats(kPairTileRows), scratch),
          mixed_v2_(matrix_floats(k1.dim()), scratch),
          row_max_(stacked(), scratch),
          row_norm_(stacked(), scratch),
          block_acc_(k1.dim(), scratch),
          row_terms_(kQueryTerms ? stacked() : 0, scratch),
          column_terms_(kQueryTerms ? group.count * kPairTileRows : 0, scratch),
          k2_tile_(kDecodes ? kPairTileRows * k1.dim() : 0, scratch),
          v2_tile_(kDecodes ? kPairTileRows * k1.dim() : 0, scratch),
          p_low_(kPath == TilePath::bf16_dots ? pair_tile::panel_floats(stacked(), kPairTileRows) / 2 : 0, scratch),
          first_(group.count, scratch), rows_(group.count, scratch), cols_(group.count, scratch) {
        results_.reserve(group.count);
        for (std::size_t r = 0; r < group.count; ++r) results_.emplace_back(k1.dim(), scratch);
    }

    PairBlockReducer(PairBlockReducer& other, tbb::split)
        : PairBlockReducer(other.group_, other.k1_, other.k2_, other.v1_, other.v2_, other.scale_, other.block_rows_,
                           other.item_cols_, other.tiles_, other.meter_) {}

    // Items are numbered block-major: item b is block b / runs, column run b % runs.
    void operator()(const tbb::blocked_range<std::size_t>& items) {
        const std::size_t runs = column_runs();
        for (std::size_t b = items.begin(); b != items.end(); ++b) process_item(b / runs, b % runs);
    }
    std::size_t column_runs() const { return (k2_.rows() + item_cols_ - 1) / item_cols_; }
    void join(const PairBlockReducer& other) {
        for (std::size_t r = 0; r < group_.count; ++r) results_[r].merge(other.results_[r]);
    }
    const SoftmaxPartial<T>& result(std::size_t r) const { return results_[r]; }

private:
    std::size_t stacked() const { return group_.count * rows_per_query_; }
    // Floats of a stacked matrix with n columns, and where its element (row i, column l) is,
    // in either layout.
    std::size_t matrix_floats(std::size_t n) const {
        return kLanePanels ? pair_tile::panel_floats(stacked(), n) : stacked() * n;
    }
    std::size_t at(std::size_t i, std::size_t l) const {
        return kLanePanels ? pair_tile::lane_index(i, l, k1_.dim()) : i * k1_.dim() + l;
    }
    void process_item(std::size_t block, std::size_t run) {
        const std::size_t d = k1_.dim();
        const std::size_t i0 = block * block_rows_, j_begin = run * item_cols_;
        // Stack each query's valid rows: A = scale·(K1_rows ∘ q_r) (docs/math.md §3), or
        // scale·K1_rows for strassen's pair term ⟨k1_i, k2_j⟩ (rank1 has no pair term). A query
        // whose columns end before this run has no pairs in it.
        std::size_t total = 0, last_col = 0;
        for (std::size_t r = 0; r < group_.count; ++r) {
            const std::size_t limit = group_.limit(r, k1_.rows());
            first_[r] = total;
            cols_[r] = std::min(group_.limit(r, k2_.rows()), j_begin + item_cols_);
            rows_[r] = limit > i0 && cols_[r] > j_begin ? std::min(block_rows_, limit - i0) : 0;
            if (rows_[r] > 0) last_col = std::max(last_col, cols_[r]);
            total += rows_[r];
        }
        if (total == 0) return;
        const T* rows[kPairBlockRows];
        block_row_pointers(k1_, i0, rows);
        for (std::size_t r = 0; r < group_.count; ++r) {
            const T* q = group_.q + r * d;
            T* scaled_q = block_acc_.data();  // free until the readout below
            for (std::size_t l = 0; l < d; ++l) scaled_q[l] = scale_ * q[l];
            if constexpr (kVariant == ScoreVariant::strassen) std::fill_n(scaled_q, d, scale_);
            T* a = scaled_k1_.data();
            for (std::size_t i = 0; i < rows_[r]; ++i) {
                // Row i of A is a strided line in either layout: stride 1 (row-major) or 16 (panels).
                T* a_row = a + at(first_[r] + i, 0);
                const std::size_t stride = at(first_[r] + i, 1) - at(first_[r] + i, 0);
                for (std::size_t l = 0; l < d; ++l) a_row[l * stride] = scaled_q[l] * rows[i][l];
                if constexpr (kQueryTerms) {
                    T dot = 0;
                    for (std::size_t l = 0; l < d; ++l) dot += q[l] * rows[i][l];
                    row_terms_[first_[r] + i] = scale_ * dot;
                }
            }
        }
        std::fill_n(row_max_.data(), total, -std::numeric_limits<T>::infinity());
        std::fill_n(row_norm_.data(), total, T(0));  // U needs no clearing: the first tile overwrites it
        if constexpr (kPath == TilePath::bf16_dots)
            pair_tile_bf16::pack_pairs(scaled_k1_.data(), pair_tile::kPanelRows * d, total, d, a_pairs(),
                                       pair_tile::kPanelRows * d / 2);

        for (std::size_t j0 = j_begin; j0 < last_col;) {
            const std::size_t cols = std::min({kPairTileRows, k2_.contiguous_from(j0), last_col - j0});
            if constexpr (kPath == TilePath::bf16_dots) fold_tile_bf16(total, j0, cols, j0 == j_begin);
            else if constexpr (kPath == TilePath::lanes) fold_tile_tiled(total, j0, cols, j0 == j_begin);
            else fold_tile_blas(total, j0, cols, j0 == j_begin);
            j0 += cols;
        }

        // Block partial of each query: Σ_i exp(m_i − M)·(v1_i ∘ u_i), merged into its result.
        block_row_pointers(v1_, i0, rows);
        for (std::size_t r = 0; r < group_.count; ++r) {
            if (rows_[r] == 0) continue;
            const std::size_t first = first_[r];
            const T top = max_of(row_max_.data() + first, rows_[r]);
            T norm = 0, weight[kPairBlockRows];
            for (std::size_t i = 0; i < rows_[r]; ++i) {
                weight[i] = std::exp(row_max_[first + i] - top);
                norm += weight[i] * row_norm_[first + i];
            }
            // Row after row, each a strided line of U as A above, into block_acc_ (d at a time,
            // vectorised over the dimensions of V1's row).
            std::fill_n(block_acc_.data(), d, T(0));
            const T* u = mixed_v2_.data();
            for (std::size_t i = 0; i < rows_[r]; ++i) {
                const T* u_row = u + at(first + i, 0);
                const std::size_t stride = at(first + i, 1) - at(first + i, 0);
                const T* v1 = rows[i];
                for (std::size_t l = 0; l < d; ++l) block_acc_[l] += weight[i] * v1[l] * u_row[l * stride];
            }
            results_[r].merge(top, norm, block_acc_.data());
        }
    }

    // The block's K1 or V1 rows [i0, i0 + block rows) as rows of T: the storage's own, or, for
    // reduced formats, decoded into the K2 tile's scratch (≥ kPairBlockRows rows, free outside
    // fold_tile).
    void block_row_pointers(const StoredRows<S>& stream, std::size_t i0, const T** rows) {
        const std::size_t count = std::min(block_rows_, stream.rows() - i0), d = k1_.dim();
        if constexpr (kDecodes) {
            static_assert(kPairBlockRows <= kPairTileRows);
            stream.decode(i0, count, k2_tile_.data());
            for (std::size_t i = 0; i < count; ++i) rows[i] = k2_tile_.data() + i * d;
        } else {
            for (std::size_t i = 0; i < count; ++i) rows[i] = stream.values.row(i0 + i);
        }
    }

    // Scores of the stacked rows against K2 rows [j0, j0+cols), online softmax per row (over
    // the columns its query may use; the rest get probability 0), U += P·V2 (U = P·V2 on the
    // item's first tile). Lane panels, float only.
    void fold_tile_tiled(std::size_t total, std::size_t j0, std::size_t cols, bool first_tile) {
        if constexpr (std::is_same_v<T, float>) {
            static_assert(kPairTileRows == pair_tile::kMaxCols);
            const std::size_t d = k1_.dim();
            T* s = scores_.data();
            tiles_.scores(scaled_k1_.data(), total, dense_rows(k2_, j0, cols, k2_tile_.data()), cols, d, s);
            mask_and_softmax(total, j0, cols, first_tile);
            tiles_.mix(s, total, dense_rows(v2_, j0, cols, v2_tile_.data()), cols, d, mixed_v2_.data(),
                       /*accumulate=*/!first_tile);
        }
    }

    // The same with bf16 dot products (attention/pair_tile_bf16.hpp), K2 read as stored: A in
    // pair panels (packed once per block), V2's tile interleaved by row pairs into the first
    // half of v2_tile_. P = P_hi + P_lo, two bf16 parts (P_hi packed in place of S): rounding P
    // once to bf16 raised factor:dtype=bf16's error from 3.2e-3 to 4.1e-3 (n = 2048, d = 64,
    // gaussian), while rounding A once moved it by < 2% (docs/performance.md).
    void fold_tile_bf16(std::size_t total, std::size_t j0, std::size_t cols, bool first_tile) {
        if constexpr (std::is_same_v<S, bf16>) {
            constexpr std::size_t panel = pair_tile::kPanelRows * kPairTileRows;  // S's floats per lane panel
            const std::size_t d = k1_.dim();
            T* s = scores_.data();
            auto* v2_pairs = reinterpret_cast<std::uint32_t*>(v2_tile_.data());
            pair_tile_bf16::scores(a_pairs(), total, k2_.values.row(j0), cols, d, s);
            mask_and_softmax(total, j0, cols, first_tile);
            pair_tile_bf16::pack_values(v2_.values.row(j0), cols, d, v2_pairs);
            auto* p_high = reinterpret_cast<std::uint32_t*>(s);
            pair_tile_bf16::pack_pairs(s, panel, total, cols, p_low_.data(), panel / 2, /*residual=*/true);
            pair_tile_bf16::pack_pairs(s, panel, total, cols, p_high, panel);
            pair_tile_bf16::mix(p_high, panel, total, v2_pairs, cols, d, mixed_v2_.data(), /*accumulate=*/!first_tile);
            pair_tile_bf16::mix(p_low_.data(), panel / 2, total, v2_pairs, cols, d, mixed_v2_.data(),
                                /*accumulate=*/true);
        }
    }
    // A's pair panels: the second half of v2_tile_ (kPairTileRows·d floats; A takes at most
    // kMaxRows·d/2 pairs, V2's row pairs kPairTileRows·d/2).
    std::uint32_t* a_pairs() { return reinterpret_cast<std::uint32_t*>(v2_tile_.data()) + kPairTileRows * k1_.dim() / 2; }

    // Lane panels: scores of pairs a query may not use (columns past its limit) become −inf,
    // then the online softmax of the tile.
    void mask_and_softmax(std::size_t total, std::size_t j0, std::size_t cols, bool first_tile) {
        T* s = scores_.data();
        for (std::size_t r = 0; r < group_.count; ++r) {
            const std::size_t valid = cols_[r] > j0 ? std::min(cols, cols_[r] - j0) : 0;
            for (std::size_t j = valid; j < cols; ++j)
                for (std::size_t row = first_[r]; row < first_[r] + rows_[r]; ++row)
                    s[pair_tile::lane_index(row, j, kPairTileRows)] = -std::numeric_limits<T>::infinity();
        }
        if constexpr (std::is_same_v<T, float>)
            tiles_.softmax(s, total, cols, row_max_.data(), row_norm_.data(), mixed_v2_.data(), k1_.dim(),
                           /*rescale=*/!first_tile);
    }

    // The same on row-major A, S, U with two BLAS GEMMs.
    void fold_tile_blas(std::size_t total, std::size_t j0, std::size_t cols, bool first_tile) {
        const std::size_t d = k1_.dim();
        T* s = scores_.data();
        const int ld = static_cast<int>(kPairTileRows);
        const T* k2_tile = dense_rows(k2_, j0, cols, k2_tile_.data());
        if constexpr (kVariant == ScoreVariant::rank1) {
            for (std::size_t row = 0; row < total; ++row) std::fill_n(s + row * kPairTileRows, cols, T(0));
        } else {
            blas::gemm(static_cast<int>(total), static_cast<int>(cols), static_cast<int>(d), T(1), scaled_k1_.data(),
                       static_cast<int>(d), k2_tile, static_cast<int>(d), /*b_transposed=*/true, T(0), s, ld);
        }
        if constexpr (kQueryTerms) add_query_terms(k2_tile, cols);
        for (std::size_t r = 0; r < group_.count; ++r) {
            const std::size_t valid = cols_[r] > j0 ? std::min(cols, cols_[r] - j0) : 0;
            for (std::size_t row = first_[r]; row < first_[r] + rows_[r]; ++row) {
                T* srow = s + row * kPairTileRows;
                std::fill(srow + valid, srow + cols, T(0));
                if (valid == 0) continue;
                const T new_max = std::max(row_max_[row], max_of(srow, valid));
                const T sum = exp_shifted_sum(srow, valid, new_max);
                if (new_max != row_max_[row] && row_norm_[row] != T(0)) {
                    const T shrink = std::exp(row_max_[row] - new_max);
                    row_norm_[row] *= shrink;
                    T* u = mixed_v2_.data() + row * d;
                    for (std::size_t l = 0; l < d; ++l) u[l] *= shrink;
                }
                row_norm_[row] += sum;
                row_max_[row] = new_max;
            }
        }
        blas::gemm(static_cast<int>(total), static_cast<int>(d), static_cast<int>(cols), T(1), s, ld,
                   dense_rows(v2_, j0, cols, v2_tile_.data()), static_cast<int>(d), /*b_transposed=*/false,
                   first_tile ? T(0) : T(1), mixed_v2_.data(), static_cast<int>(d));
    }

    // Scores of rank1 and strassen: S_ij += scale·⟨q_r, k1_i⟩ + scale·⟨q_r, k2_j⟩ for query r's
    // rows i and the tile's columns j (one small GEMM per tile for the column terms).
    void add_query_terms(const T* k2_tile, std::size_t cols) {
        const std::size_t d = k1_.dim();
        T* column = column_terms_.data();
        blas::gemm(static_cast<int>(group_.count), static_cast<int>(cols), static_cast<int>(d), scale_, group_.q,
                   static_cast<int>(d), k2_tile, static_cast<int>(d), /*b_transposed=*/true, T(0), column,
                   static_cast<int>(kPairTileRows));
        for (std::size_t r = 0; r < group_.count; ++r)
            for (std::size_t row = first_[r]; row < first_[r] + rows_[r]; ++row) {
                T* srow = scores_.data() + row * kPairTileRows;
                const T* terms = column + r * kPairTileRows;
                for (std::size_t j = 0; j < cols; ++j) srow[j] += row_terms_[row] + terms[j];
            }
    }

    QueryGroup<T> group_;
    StoredRows<S> k1_, k2_, v1_, v2_;
    T scale_;
    std::size_t block_rows_;  // rows i per block (pair_block_rows), ≤ kPairBlockRows
    std::size_t item_cols_;   // columns j per work item (pair_item_cols)
    pair_tile::Kernels tiles_;  // the level's f32 tile kernels (lane-panel paths only)
    MemoryMeter& meter_;
    std::vector<SoftmaxPartial<T>> results_;
    std::size_t rows_per_query_;  // K1 rows of one block
    Buffer<T> scaled_k1_, scores_, mixed_v2_, row_max_, row_norm_, block_acc_;
    Buffer<T> row_terms_, column_terms_;  // rank1 and strassen only: per stacked row, per query × tile column
    Buffer<T> k2_tile_, v2_tile_;  // decoded rows; empty when S = T
    Buffer<std::uint32_t> p_low_;  // bf16 dot products only: P − P_hi in pair panels
    Buffer<std::size_t> first_, rows_, cols_;  // per query of the group, for the current block
};

// The tile path of the trilinear score for rows stored as S, computed in T, at the active
// instruction-set level: the tiled kernels for float where the level has them (avx2: f32 lanes;
// avx512bf16 and bf16 rows of even d: bf16 dot products); BLAS for double and level portable.
// (rank1 and strassen always take BLAS: their row and column terms are added on its row-major S.)
template <Scalar T, class S>
TilePath tile_path(std::size_t d) {
    if (!std::is_same_v<T, float> || !pair_tile::available()) return TilePath::blas;
    if (std::is_same_v<S, bf16> && pair_tile_bf16::available() && d % 2 == 0) return TilePath::bf16_dots;
    return TilePath::lanes;
}

// Folds the pairs of every query of `group` into partials[r] (rows stored as S, computed in T).
// `wanted_items`: work items worth making for this group (column runs are added while its
// row blocks are fewer), so that the groups of one call together keep every worker busy.
template <Scalar T, class S>
void decode_group(const QueryGroup<T>& group, const StoredRows<S>& k1, const StoredRows<S>& k2,
                  const StoredRows<S>& v1, const StoredRows<S>& v2, T scale, std::size_t wanted_items,
                  SoftmaxPartial<T>* partials, MemoryMeter& scratch, ScoreVariant variant) {
    require(k1.rows() == v1.rows() && k2.rows() == v2.rows(), "tensor_decode: key and value row counts differ");
    std::size_t rows = 0;  // K1 rows any query of the group uses
    for (std::size_t r = 0; r < group.count; ++r) rows = std::max(rows, group.limit(r, k1.rows()));
    if (rows == 0 || k2.rows() == 0) return;  // no pairs: nothing to fold
    const std::size_t block_rows = pair_block_rows(rows);
    const std::size_t blocks = (rows + block_rows - 1) / block_rows;
    const auto fold = [&]<TilePath kPath, ScoreVariant kVariant = ScoreVariant::trilinear>() {
        pair_tile::Kernels tiles{};
        if constexpr (kPath != TilePath::blas) tiles = pair_tile::kernels(active_isa());
        PairBlockReducer<T, S, kPath, kVariant> reducer(group, k1, k2, v1, v2, scale, block_rows,
                                                        pair_item_cols(blocks, k2.rows(), wanted_items), tiles,
                                                        scratch);
        tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, blocks * reducer.column_runs()), reducer);
        for (std::size_t r = 0; r < group.count; ++r) partials[r].merge(reducer.result(r));
    };
    switch (variant) {
        case ScoreVariant::rank1: return fold.template operator()<TilePath::blas, ScoreVariant::rank1>();
        case ScoreVariant::strassen: return fold.template operator()<TilePath::blas, ScoreVariant::strassen>();
        case ScoreVariant::trilinear: break;
    }
    switch (tile_path<T, S>(k1.dim())) {
        case TilePath::bf16_dots:
            if constexpr (std::is_same_v<S, bf16>) return fold.template operator()<TilePath::bf16_dots>();
            [[fallthrough]];
        case TilePath::lanes:
            if constexpr (std::is_same_v<T, float>) return fold.template operator()<TilePath::lanes>();
            [[fallthrough]];
        case TilePath::blas: break;
    }
    fold.template operator()<TilePath::blas>();
}

// out[r] for `count` queries, in groups (queries_per_group) run in parallel; limits as QueryGroup.
template <Scalar T, class S>
void decode_queries(const T* q, std::size_t count, const std::size_t* limits, const StoredRows<S>& k1,
                    const StoredRows<S>& k2, const StoredRows<S>& v1, const StoredRows<S>& v2, T scale, T* out,
                    MemoryMeter& scratch, ScoreVariant variant = ScoreVariant::trilinear) {
    const std::size_t d = k1.dim();
    const std::size_t per_group = queries_per_group(k1.rows());
    const std::size_t groups = (count + per_group - 1) / per_group;
    const std::size_t wanted_items = (parallel_slack() + groups - 1) / groups;
    tbb::parallel_for(std::size_t(0), groups, [&](std::size_t g) {
        const std::size_t first = g * per_group, size = std::min(per_group, count - first);
        std::vector<SoftmaxPartial<T>> partials;
        partials.reserve(size);
        for (std::size_t r = 0; r < size; ++r) partials.emplace_back(d, scratch);
        const QueryGroup<T> group{q + first * d, limits ? limits + first : nullptr, size};
        decode_group(group, k1, k2, v1, v2, scale, wanted_items, partials.data(), scratch, variant);
        for (std::size_t r = 0; r < size; ++r) partials[r].finish(out + (first + r) * d);
    });
}

// Causal or full tensor attention of every query of one head; inputs are [n, d] C order.
template <Scalar T>
void prefill_head(const T* q, const T* k1, const T* k2, const T* v1, const T* v2, std::size_t n,
                  std::size_t d, bool causal, T scale, T* out, MemoryMeter& scratch) {
    const auto rows = [&](const T* data) { return StoredRows<T>::contiguous(data, n, d); };
    std::vector<std::size_t> limits;
    if (causal)
        for (std::size_t t = 0; t < n; ++t) limits.push_back(t + 1);
    decode_queries(q, n, causal ? limits.data() : nullptr, rows(k1), rows(k2), rows(v1), rows(v2), scale, out,
                   scratch);
}

template <class Array>
void require_same_shapes(const Array& q, const Array& k1, const Array& k2, const Array& v1,
                         const Array& v2) {
    for (const Array* other : {&k1, &k2, &v1, &v2})
        require(other->shape() == q.shape(), "tensor attention: q, k1, k2, v1, v2 differ in shape");
}

}  // namespace

template <class S>
void tensor_decode(std::size_t count, const ComputeType<S>* q, const StoredRows<S>& k1, const StoredRows<S>& k2,
                   const StoredRows<S>& v1, const StoredRows<S>& v2, ComputeType<S> scale, ComputeType<S>* out,
                   MemoryMeter& scratch, ScoreVariant variant) {
    require(k1.rows() > 0 && k2.rows() > 0, "tensor_decode: needs at least one key on each side");
    decode_queries(q, count, nullptr, k1, k2, v1, v2, scale, out, scratch, variant);
}

template <class S>
void tensor_decode_partial(const ComputeType<S>* q, const StoredRows<S>& k1, const StoredRows<S>& k2,
                           const StoredRows<S>& v1, const StoredRows<S>& v2, ComputeType<S> scale,
                           SoftmaxPartial<ComputeType<S>>& partial, MemoryMeter& scratch, ScoreVariant variant) {
    decode_group(QueryGroup<ComputeType<S>>{q, nullptr, 1}, k1, k2, v1, v2, scale, parallel_slack(), &partial,
                 scratch, variant);
}

template <Scalar T>
Matrix<T> tensor_prefill(const Matrix<T>& q, const Matrix<T>& k1, const Matrix<T>& k2,
                         const Matrix<T>& v1, const Matrix<T>& v2, bool causal, T scale) {
    require_same_shapes(q, k1, k2, v1, v2);
    const std::size_t n = q.shape(0), d = q.shape(1);
    Matrix<T> out = xt::zeros<T>({n, d});
    if (n == 0 || d == 0) return out;
    MemoryMeter scratch;
    prefill_head(q.data(), k1.data(), k2.data(), v1.data(), v2.data(), n, d, causal, scale,
                 out.data(), scratch);
    return out;
}

template <Scalar T>
Heads<T> tensor_prefill(const Heads<T>& q, const Heads<T>& k1, const Heads<T>& k2,
                        const Heads<T>& v1, const Heads<T>& v2, bool causal, T scale) {
    require_same_shapes(q, k1, k2, v1, v2);
    const std::size_t h = q.shape(0), n = q.shape(1), d = q.shape(2);
    Heads<T> out = xt::zeros<T>({h, n, d});
    if (n == 0 || d == 0) return out;
    MemoryMeter scratch;
    tbb::parallel_for(std::size_t(0), h, [&](std::size_t head) {
        const std::size_t offset = head * n * d;
        prefill_head(q.data() + offset, k1.data() + offset, k2.data() + offset,
                     v1.data() + offset, v2.data() + offset, n, d, causal, scale,
                     out.data() + offset, scratch);
    });
    return out;
}

#define TRIKV_INSTANTIATE(S)                                                                                \
    template void tensor_decode<S>(std::size_t, const ComputeType<S>*, const StoredRows<S>&, const StoredRows<S>&, \
                                   const StoredRows<S>&, const StoredRows<S>&, ComputeType<S>, ComputeType<S>*,    \
                                   MemoryMeter&, ScoreVariant);                                                    \
    template void tensor_decode_partial<S>(const ComputeType<S>*, const StoredRows<S>&, const StoredRows<S>&,       \
                                           const StoredRows<S>&, const StoredRows<S>&, ComputeType<S>,            \
                                           SoftmaxPartial<ComputeType<S>>&, MemoryMeter&, ScoreVariant);
TRIKV_FOR_EACH_STORAGE(TRIKV_INSTANTIATE)
#undef TRIKV_INSTANTIATE

// Whole sequences come as xtensor arrays of the compute types only.
#define TRIKV_INSTANTIATE_PREFILL(T)                                                                            \
    template Matrix<T> tensor_prefill<T>(const Matrix<T>&, const Matrix<T>&, const Matrix<T>&, const Matrix<T>&, \
                                         const Matrix<T>&, bool, T);                                            \
    template Heads<T> tensor_prefill<T>(const Heads<T>&, const Heads<T>&, const Heads<T>&, const Heads<T>&,      \
                                        const Heads<T>&, bool, T);
TRIKV_INSTANTIATE_PREFILL(float)
TRIKV_INSTANTIATE_PREFILL(double)
#undef TRIKV_INSTANTIATE_PREFILL

}  // namespace trikv
