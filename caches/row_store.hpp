#pragma once
// Growable row storage for caches: rows of `dim` scalars in fixed-size chunks, every byte
// charged to a MemoryMeter. Growing never copies old rows (no copy-and-double: a product
// cache holds O(n²d) bytes, and doubling would briefly need twice that).
//
// T is float or double, or a reduced storage format (framework/storage.hpp: bf16, fp16,
// int8). append(float row) encodes a row in T; int8 rows also get a float scale each, kept in
// chunks of their own beside the row chunks (chunk_rows scales per chunk, counted too).
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "attention/rows.hpp"
#include "attention/stored_rows.hpp"
#include "framework/memory.hpp"
#include "framework/storage.hpp"

namespace trikv {

template <class T>
class RowStore {
public:
    RowStore(std::size_t dim, std::size_t chunk_rows, MemoryMeter& meter)
        : dim_(dim), chunk_rows_(chunk_rows), meter_(&meter) {}
    RowStore(RowStore&& other) noexcept
        : dim_(other.dim_), chunk_rows_(other.chunk_rows_), meter_(other.meter_), chunks_(std::move(other.chunks_)),
          pointers_(std::move(other.pointers_)), scale_chunks_(std::move(other.scale_chunks_)),
          scale_pointers_(std::move(other.scale_pointers_)), rows_(std::exchange(other.rows_, 0)) {
        other.chunks_.clear();  // the moved-from store holds nothing, unfilled rows included
    }
    RowStore& operator=(RowStore&&) = delete;
    ~RowStore() { meter_->on_fill(unfilled_bytes()); }

    // Space for one more row, appended at the end; the caller fills it. (Scaled formats
    // need their scale: use append.)
    T* append_row()
        requires(!kRowScaled<T>)
    {
        return next_row();
    }
    // Appends one row given in float, encoded in T.
    void append(const float* in) {
        T* row = next_row();
        if constexpr (kRowScaled<T>) {
            const std::size_t i = rows_ - 1;
            scale_chunks_[i / chunk_rows_][i % chunk_rows_] = encode(in, row, dim_);
        } else if constexpr (std::is_arithmetic_v<T>) {
            for (std::size_t l = 0; l < dim_; ++l) row[l] = static_cast<T>(in[l]);
        } else {
            encode(in, row, dim_);
        }
    }
    // Appends one row that `fill(float* row)` writes in float: in place when T is float,
    // else in `staging` (dim floats), then encoded.
    template <class Fill>
    void append_with(Fill&& fill, float* staging) {
        if constexpr (std::is_same_v<T, float>) {
            fill(next_row());
        } else {
            fill(staging);
            append(staging);
        }
    }
    const T* row(std::size_t i) const { return pointers_[i / chunk_rows_] + (i % chunk_rows_) * dim_; }
    // Row i to overwrite in place (ring buffers, sketches); scaled formats keep their scale.
    T* row(std::size_t i)
        requires(!kRowScaled<T>)
    {
        return pointers_[i / chunk_rows_] + (i % chunk_rows_) * dim_;
    }

    // Allocates whole chunks up front so that `rows` rows fit.
    void reserve(std::size_t rows) {
        while (capacity() < rows) add_chunk();
    }
    // Drops every row and returns the memory.
    void clear() {
        meter_->on_fill(unfilled_bytes());
        chunks_.clear();
        pointers_.clear();
        scale_chunks_.clear();
        scale_pointers_.clear();
        rows_ = 0;
    }

    RowsView<T> view() const { return RowsView<T>::chunked(pointers_.data(), chunk_rows_, rows_, dim_); }
    // The rows with their scales, as the kernels read stored rows (attention/stored_rows.hpp).
    StoredRows<T> stored() const {
        StoredRows<T> rows{view(), {}};
        if constexpr (kRowScaled<T>)
            rows.scales = RowsView<float>::chunked(scale_pointers_.data(), chunk_rows_, rows_, 1);
        return rows;
    }
    std::size_t rows() const { return rows_; }
    std::size_t dim() const { return dim_; }
    std::size_t chunk_rows() const { return chunk_rows_; }
    std::size_t capacity() const { return chunks_.size() * chunk_rows_; }
    // Bytes this store holds for `rows` rows (whole chunks, scales included), for cost models.
    std::size_t bytes_for(std::size_t rows) const {
        return (rows + chunk_rows_ - 1) / chunk_rows_ * chunk_rows_ * row_bytes();
    }

private:
    std::size_t row_bytes() const { return dim_ * sizeof(T) + (kRowScaled<T> ? sizeof(float) : 0); }
    std::size_t unfilled_bytes() const { return (capacity() - rows_) * row_bytes(); }

    T* next_row() {
        if (rows_ == capacity()) add_chunk();
        T* row = chunks_[rows_ / chunk_rows_].data() + (rows_ % chunk_rows_) * dim_;
        ++rows_;
        meter_->on_fill(row_bytes());
        return row;
    }
    void add_chunk() {
        meter_->on_allocate_unfilled(chunk_rows_ * row_bytes());
        chunks_.emplace_back(chunk_rows_ * dim_, *meter_);
        pointers_.push_back(chunks_.back().data());
        if constexpr (kRowScaled<T>) {
            scale_chunks_.emplace_back(chunk_rows_, *meter_);
            scale_pointers_.push_back(scale_chunks_.back().data());
        }
    }

    std::size_t dim_, chunk_rows_;
    MemoryMeter* meter_;
    std::vector<Buffer<T>> chunks_;
    std::vector<T*> pointers_;  // chunk starts; RowsView reads them as const T* const*
    std::vector<Buffer<float>> scale_chunks_;  // int8: chunk_rows scales per chunk
    std::vector<float*> scale_pointers_;
    std::size_t rows_ = 0;
};

}  // namespace trikv
