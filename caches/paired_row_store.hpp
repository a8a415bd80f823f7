#pragma once
// Two row streams that are always read together — a cache's keys and values — stored
// tile-interleaved: tile t holds rows [t·tile, (t+1)·tile) of the first stream, then the same
// rows of the second, back to back. A kernel that scores a tile of keys and then accumulates
// the same tile of values (attention/matrix_attention.cpp) then reads memory as one ascending
// stream. Two separate stores make it alternate between two streams far apart, which the
// hardware prefetchers follow less well: 4–20% less bandwidth measured (docs/performance.md,
// build/bin/trikv_stream_micro).
// Tiles of 64 and 256 rows measured the same.
//
// Tiles are carved from slabs of `slab_tiles` tiles; growing never copies a row. Every byte
// is charged to the meter, the slabs and the index of tile pointers the kernels read
// (RowsView::chunked, one pointer per tile and stream), whose capacity grows by doubling in
// whole slabs so that bytes_for() is exact. Formats as in RowStore: float, or a reduced
// format (framework/storage.hpp) encoded from float rows; int8 rows keep a float scale each,
// in the tile after the rows.
#include <bit>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "attention/rows.hpp"
#include "attention/stored_rows.hpp"
#include "framework/memory.hpp"
#include "framework/storage.hpp"

namespace trikv {

template <class S>
class PairedRowStore {
public:
    PairedRowStore(std::size_t dim, std::size_t tile_rows, std::size_t slab_tiles, MemoryMeter& meter)
        : dim_(dim), tile_rows_(tile_rows), slab_tiles_(slab_tiles), meter_(&meter) {}
    PairedRowStore(PairedRowStore&& other) noexcept
        : dim_(other.dim_), tile_rows_(other.tile_rows_), slab_tiles_(other.slab_tiles_), meter_(other.meter_),
          slabs_(std::move(other.slabs_)), first_(std::move(other.first_)), second_(std::move(other.second_)),
          first_scales_(std::move(other.first_scales_)), second_scales_(std::move(other.second_scales_)),
          index_charged_(std::exchange(other.index_charged_, 0)), rows_(std::exchange(other.rows_, 0)) {
        other.slabs_.clear();  // the moved-from store holds nothing, unfilled rows included
    }
    PairedRowStore& operator=(PairedRowStore&&) = delete;
    ~PairedRowStore() {
        charge_index(0);
        meter_->on_fill(unfilled_bytes());
    }

    // Appends one row to each stream: fill_first(float* row) and fill_second(float* row)
    // write it in float, in place when S is float, else in `staging` (dim floats) and encoded.
    template <class FillFirst, class FillSecond>
    void append_with(FillFirst&& fill_first, FillSecond&& fill_second, float* staging) {
        if (rows_ == capacity()) add_slab();
        const std::size_t tile = rows_ / tile_rows_, r = rows_ % tile_rows_;
        store(fill_first, first_[tile] + r * dim_, first_scales_, tile, r, staging);
        store(fill_second, second_[tile] + r * dim_, second_scales_, tile, r, staging);
        ++rows_;
        meter_->on_fill(row_pair_bytes());
    }

    // Allocates whole slabs up front so that `rows` rows fit.
    void reserve(std::size_t rows) {
        while (capacity() < rows) add_slab();
    }
    // Drops every row and returns the memory.
    void clear() {
        meter_->on_fill(unfilled_bytes());
        slabs_.clear();
        for (auto* index : {&first_, &second_}) std::vector<S*>().swap(*index);
        for (auto* index : {&first_scales_, &second_scales_}) std::vector<float*>().swap(*index);
        charge_index(0);
        rows_ = 0;
    }

    StoredRows<S> first() const { return stored(first_, first_scales_); }
    StoredRows<S> second() const { return stored(second_, second_scales_); }
    std::size_t rows() const { return rows_; }

    // Bytes this store holds for `rows` rows (whole slabs and the index), for cost models.
    std::size_t bytes_for(std::size_t rows) const {
        const std::size_t slabs = (rows + slab_rows() - 1) / slab_rows();
        return slabs * slab_tiles_ * tile_bytes() + index_bytes(index_capacity(slabs));
    }

private:
    static constexpr std::size_t kStreams = kRowScaled<S> ? 4 : 2;  // row and scale pointers

    static std::size_t aligned(std::size_t bytes) {
        return (bytes + Buffer<S>::alignment - 1) / Buffer<S>::alignment * Buffer<S>::alignment;
    }
    std::size_t rows_bytes() const { return aligned(tile_rows_ * dim_ * sizeof(S)); }
    std::size_t scales_bytes() const { return kRowScaled<S> ? aligned(tile_rows_ * sizeof(float)) : 0; }
    std::size_t tile_bytes() const { return 2 * rows_bytes() + 2 * scales_bytes(); }
    std::size_t slab_rows() const { return slab_tiles_ * tile_rows_; }
    std::size_t capacity() const { return slabs_.size() * slab_rows(); }
    // The data of one appended row of each stream (alignment padding and the index are overhead).
    std::size_t row_pair_bytes() const { return 2 * (dim_ * sizeof(S) + (kRowScaled<S> ? sizeof(float) : 0)); }
    std::size_t unfilled_bytes() const { return (capacity() - rows_) * row_pair_bytes(); }
    std::size_t index_capacity(std::size_t slabs) const {
        return slabs == 0 ? 0 : slab_tiles_ * std::bit_ceil(slabs);
    }
    static std::size_t index_bytes(std::size_t capacity) { return kStreams * capacity * sizeof(void*); }

    template <class Fill>
    void store(Fill& fill, S* row, const std::vector<float*>& scales, std::size_t tile, std::size_t r,
               float* staging) {
        if constexpr (std::is_same_v<S, float>) {
            fill(row);
        } else {
            fill(staging);
            if constexpr (kRowScaled<S>) scales[tile][r] = encode(staging, row, dim_);
            else encode(staging, row, dim_);
        }
    }

    void add_slab() {
        const std::size_t slabs = slabs_.size() + 1;
        if (index_capacity(slabs) != first_.capacity()) {  // doubles, in whole slabs
            for (auto* index : {&first_, &second_}) index->reserve(index_capacity(slabs));
            if constexpr (kRowScaled<S>)
                for (auto* index : {&first_scales_, &second_scales_}) index->reserve(index_capacity(slabs));
            charge_index(index_capacity(slabs));
        }
        meter_->on_allocate_unfilled(slab_rows() * row_pair_bytes());
        slabs_.emplace_back(slab_tiles_ * tile_bytes(), *meter_);
        unsigned char* tile = slabs_.back().data();
        for (std::size_t t = 0; t < slab_tiles_; ++t, tile += tile_bytes()) {
            first_.push_back(reinterpret_cast<S*>(tile));
            second_.push_back(reinterpret_cast<S*>(tile + rows_bytes()));
            if constexpr (kRowScaled<S>) {
                first_scales_.push_back(reinterpret_cast<float*>(tile + 2 * rows_bytes()));
                second_scales_.push_back(reinterpret_cast<float*>(tile + 2 * rows_bytes() + scales_bytes()));
            }
        }
    }

    // The index lives in std::vectors; its bytes are charged here, as its capacity changes.
    void charge_index(std::size_t capacity) {
        if (index_charged_) meter_->on_release(index_charged_);
        index_charged_ = index_bytes(capacity);
        if (index_charged_) meter_->on_allocate(index_charged_);
    }

    StoredRows<S> stored(const std::vector<S*>& rows, const std::vector<float*>& scales) const {
        StoredRows<S> view{RowsView<S>::chunked(rows.data(), tile_rows_, rows_, dim_), {}};
        if constexpr (kRowScaled<S>) view.scales = RowsView<float>::chunked(scales.data(), tile_rows_, rows_, 1);
        return view;
    }

    std::size_t dim_, tile_rows_, slab_tiles_;
    MemoryMeter* meter_;
    std::vector<Buffer<unsigned char>> slabs_;
    std::vector<S*> first_, second_;  // tile starts; RowsView reads them as const S* const*
    std::vector<float*> first_scales_, second_scales_;  // int8 only
    std::size_t index_charged_ = 0;
    std::size_t rows_ = 0;
};

}  // namespace trikv
