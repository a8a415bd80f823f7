#pragma once
// Growable row storage for caches: rows of `dim` scalars in fixed-size chunks, every byte
// charged to a MemoryMeter. Growing never copies old rows (no copy-and-double: a product
// cache holds O(n²d) bytes, and doubling would briefly need twice that).
#include <cstddef>
#include <vector>

#include "attention/rows.hpp"
#include "framework/memory.hpp"

namespace trikv {

template <class T>
class RowStore {
public:
    RowStore(std::size_t dim, std::size_t chunk_rows, MemoryMeter& meter)
        : dim_(dim), chunk_rows_(chunk_rows), meter_(&meter) {}

    // Space for one more row, appended at the end; the caller fills it.
    T* append_row() {
        if (rows_ == capacity()) add_chunk();
        T* row = chunks_[rows_ / chunk_rows_].data() + (rows_ % chunk_rows_) * dim_;
        ++rows_;
        return row;
    }
    const T* row(std::size_t i) const { return pointers_[i / chunk_rows_] + (i % chunk_rows_) * dim_; }

    // Allocates whole chunks up front so that `rows` rows fit.
    void reserve(std::size_t rows) {
        while (capacity() < rows) add_chunk();
    }
    // Drops every row and returns the memory.
    void clear() {
        chunks_.clear();
        pointers_.clear();
        rows_ = 0;
    }

    RowsView<T> view() const { return RowsView<T>::chunked(pointers_.data(), chunk_rows_, rows_, dim_); }
    std::size_t rows() const { return rows_; }
    std::size_t dim() const { return dim_; }
    std::size_t chunk_rows() const { return chunk_rows_; }
    std::size_t capacity() const { return chunks_.size() * chunk_rows_; }
    // Bytes this store holds for `rows` rows (whole chunks), for cost models.
    std::size_t bytes_for(std::size_t rows) const {
        return (rows + chunk_rows_ - 1) / chunk_rows_ * chunk_rows_ * dim_ * sizeof(T);
    }

private:
    void add_chunk() {
        chunks_.emplace_back(chunk_rows_ * dim_, *meter_);
        pointers_.push_back(chunks_.back().data());
    }

    std::size_t dim_, chunk_rows_;
    MemoryMeter* meter_;
    std::vector<Buffer<T>> chunks_;
    std::vector<const T*> pointers_;  // chunk starts, the form RowsView reads
    std::size_t rows_ = 0;
};

}  // namespace trikv
