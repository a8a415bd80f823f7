#pragma once
// Compressed rows for the sparse caches (sparse-factor, sparse-product): a row keeps only its
// non-zero entries, as (uint16 index, float value) in ascending index order, plus a uint16
// count. Every byte is charged to a MemoryMeter, in fixed-size chunks so growing never copies:
//   * entries stream through chunks of `entry_chunk` entries (indices and values in two
//     arrays, 6 bytes an entry); a row may straddle two chunks (readers then copy it into
//     their scratch), so no chunk space is wasted on padding. entry_chunk is raised to dim
//     when smaller, so a row never spans more than two chunks;
//   * counts go in chunks of `row_chunk` rows, each with the entry offset of its first row
//     (8 bytes), so a reader can start at any row without scanning from row 0.
// Hence, for R rows holding E entries in all:
//   bytes = ⌈E / entry_chunk⌉·entry_chunk·6 + ⌈R / row_chunk⌉·(row_chunk·2 + 8).
// uint16 indices and counts limit the dimension to 65535.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "framework/error.hpp"
#include "framework/memory.hpp"

namespace trikv {

// One row as a reader sees it: `count` entries, indices ascending.
struct SparseRow {
    std::size_t count = 0;
    const std::uint16_t* index = nullptr;
    const float* value = nullptr;
};

class SparseRows {
public:
    using Index = std::uint16_t;
    using Count = std::uint16_t;
    static constexpr std::size_t kMaxDim = 65535;
    static constexpr std::size_t kEntryBytes = sizeof(Index) + sizeof(float);

    SparseRows(std::size_t dim, std::size_t entry_chunk, std::size_t row_chunk, MemoryMeter& meter)
        : dim_(dim), entry_chunk_(std::max(entry_chunk, dim)), row_chunk_(row_chunk), meter_(&meter) {
        require(dim >= 1 && dim <= kMaxDim,
                "sparse rows: dim = " + std::to_string(dim) + " is out of range [1, 65535] (uint16 indices)");
    }

    // Appends the non-zeros of a dense row of dim floats.
    void append(const float* row) {
        for (std::size_t l = 0; l < dim_; ++l)
            if (row[l] != 0.0f) push(static_cast<Index>(l), row[l]);
        end_row();
    }
    // Builds a row entry by entry (ascending indices), then end_row() closes it.
    void push(Index index, float value) {
        if (entries_ == entry_capacity()) add_entry_chunk();
        const std::size_t chunk = entries_ / entry_chunk_, at = entries_ % entry_chunk_;
        index_chunks_[chunk][at] = index;
        value_chunks_[chunk][at] = value;
        ++entries_;
    }
    void end_row() {
        if (rows_ == row_capacity()) add_row_chunk();
        if (rows_ % row_chunk_ == 0) chunk_starts_[rows_ / row_chunk_][0] = row_start_;
        count_chunks_[rows_ / row_chunk_][rows_ % row_chunk_] = static_cast<Count>(entries_ - row_start_);
        row_start_ = entries_;
        ++rows_;
    }

    // Allocates the count chunks for `rows` rows up front. Entries, whose number depends on
    // the data, still grow a chunk at a time.
    void reserve_rows(std::size_t rows) {
        while (row_capacity() < rows) add_row_chunk();
    }
    void clear() {
        index_chunks_.clear();
        value_chunks_.clear();
        count_chunks_.clear();
        chunk_starts_.clear();
        rows_ = entries_ = row_start_ = 0;
    }

    std::size_t rows() const { return rows_; }
    std::size_t entries() const { return entries_; }
    std::size_t dim() const { return dim_; }
    std::size_t entry_chunk() const { return entry_chunk_; }
    std::size_t row_chunk() const { return row_chunk_; }
    std::size_t count(std::size_t row) const { return count_chunks_[row / row_chunk_][row % row_chunk_]; }
    // Entry offset of row `row` (row ≤ rows()).
    std::size_t offset(std::size_t row) const {
        if (row == rows_) return entries_;
        const std::size_t chunk = row / row_chunk_;
        std::size_t at = chunk_starts_[chunk][0];
        for (std::size_t r = chunk * row_chunk_; r < row; ++r) at += count(r);
        return at;
    }

    // The byte formula above for `rows` rows holding `entries` entries, with this store's
    // chunk sizes (for cost models and tests).
    std::size_t bytes_for(std::size_t rows, std::size_t entries) const {
        const std::size_t entry_chunks = (entries + entry_chunk_ - 1) / entry_chunk_;
        const std::size_t row_chunks = (rows + row_chunk_ - 1) / row_chunk_;
        return entry_chunks * entry_chunk_ * kEntryBytes + row_chunks * (row_chunk_ * sizeof(Count) + sizeof(std::uint64_t));
    }

    // Walks rows in order from any starting row. A row that straddles two entry chunks is
    // copied into the reader's scratch (dim indices and values, charged to `scratch`).
    class Reader {
    public:
        Reader(const SparseRows& rows, MemoryMeter& scratch)
            : rows_(&rows), index_(rows.dim(), scratch), value_(rows.dim(), scratch) {}

        void seek(std::size_t row) {
            row_ = row;
            at_ = rows_->offset(row);
        }
        SparseRow next() {
            const std::size_t count = rows_->count(row_), chunk_size = rows_->entry_chunk_;
            const std::size_t chunk = at_ / chunk_size, first = at_ % chunk_size;
            SparseRow row{count, nullptr, nullptr};
            if (first + count <= chunk_size) {
                if (count > 0) {  // (an empty row at the end may point past the last chunk)
                    row.index = rows_->index_chunks_[chunk].data() + first;
                    row.value = rows_->value_chunks_[chunk].data() + first;
                }
            } else {  // straddles chunks `chunk` and `chunk + 1`
                const std::size_t head = chunk_size - first;
                std::memcpy(index_.data(), rows_->index_chunks_[chunk].data() + first, head * sizeof(Index));
                std::memcpy(value_.data(), rows_->value_chunks_[chunk].data() + first, head * sizeof(float));
                std::memcpy(index_.data() + head, rows_->index_chunks_[chunk + 1].data(), (count - head) * sizeof(Index));
                std::memcpy(value_.data() + head, rows_->value_chunks_[chunk + 1].data(), (count - head) * sizeof(float));
                row.index = index_.data();
                row.value = value_.data();
            }
            ++row_;
            at_ += count;
            return row;
        }
        // Steps over `rows` rows without reading their entries.
        void skip(std::size_t rows) {
            for (std::size_t r = 0; r < rows; ++r) at_ += rows_->count(row_++);
        }

    private:
        const SparseRows* rows_;
        Buffer<Index> index_;
        Buffer<float> value_;
        std::size_t row_ = 0, at_ = 0;
    };

private:
    std::size_t entry_capacity() const { return index_chunks_.size() * entry_chunk_; }
    std::size_t row_capacity() const { return count_chunks_.size() * row_chunk_; }
    void add_entry_chunk() {
        index_chunks_.emplace_back(entry_chunk_, *meter_);
        value_chunks_.emplace_back(entry_chunk_, *meter_);
    }
    void add_row_chunk() {
        count_chunks_.emplace_back(row_chunk_, *meter_);
        chunk_starts_.emplace_back(1, *meter_);
    }

    std::size_t dim_, entry_chunk_, row_chunk_;
    MemoryMeter* meter_;
    std::vector<Buffer<Index>> index_chunks_;
    std::vector<Buffer<float>> value_chunks_;
    std::vector<Buffer<Count>> count_chunks_;
    std::vector<Buffer<std::uint64_t>> chunk_starts_;  // entry offset of each count chunk's first row
    std::size_t rows_ = 0, entries_ = 0, row_start_ = 0;
};

}  // namespace trikv
