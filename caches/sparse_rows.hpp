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
    // copied into the reader's scratch (dim indices and values, charged to `scratch`), so a
    // returned row stays valid until the next call. Stepping needs no division: the kernels
    // call next() once per pair (i, j) of the square.
    class Reader {
    public:
        Reader(const SparseRows& rows, MemoryMeter& scratch)
            : rows_(&rows), index_(rows.dim(), scratch), value_(rows.dim(), scratch) {}

        void seek(std::size_t row) {
            const std::size_t at = rows_->offset(row);
            row_chunk_ = row / rows_->row_chunk_;
            row_in_chunk_ = row % rows_->row_chunk_;
            entry_chunk_ = at / rows_->entry_chunk_;
            entry_in_chunk_ = at % rows_->entry_chunk_;
        }
        SparseRow next() {
            const SparseRows& rows = *rows_;
            const std::size_t count = rows.count_chunks_[row_chunk_][row_in_chunk_];
            if (++row_in_chunk_ == rows.row_chunk_) {
                ++row_chunk_;
                row_in_chunk_ = 0;
            }
            SparseRow row{count, nullptr, nullptr};
            const std::size_t room = rows.entry_chunk_ - entry_in_chunk_;
            // (No test of count == 0, which sparse pair rows make unpredictable; only an empty
            // row at the very end may find its chunk missing.)
            if (count <= room && entry_chunk_ < rows.index_chunks_.size()) {
                row.index = rows.index_chunks_[entry_chunk_].data() + entry_in_chunk_;
                row.value = rows.value_chunks_[entry_chunk_].data() + entry_in_chunk_;
                entry_in_chunk_ += count;
            } else if (count > room) {  // the first `room` entries end this chunk, the rest start the next
                std::memcpy(index_.data(), rows.index_chunks_[entry_chunk_].data() + entry_in_chunk_, room * sizeof(Index));
                std::memcpy(value_.data(), rows.value_chunks_[entry_chunk_].data() + entry_in_chunk_, room * sizeof(float));
                std::memcpy(index_.data() + room, rows.index_chunks_[entry_chunk_ + 1].data(), (count - room) * sizeof(Index));
                std::memcpy(value_.data() + room, rows.value_chunks_[entry_chunk_ + 1].data(), (count - room) * sizeof(float));
                row.index = index_.data();
                row.value = value_.data();
                ++entry_chunk_;
                entry_in_chunk_ = count - room;
            }
            if (entry_in_chunk_ == rows.entry_chunk_) {
                ++entry_chunk_;
                entry_in_chunk_ = 0;
            }
            return row;
        }

        // Calls visit(SparseRow) for each of the next `rows` rows: over plain pointers when
        // their counts lie in one count chunk and their entries in one entry chunk (almost
        // always), else row by row through next().
        template <class Visit>
        void visit(std::size_t rows, Visit&& visit) {
            const SparseRows& store = *rows_;
            if (row_in_chunk_ + rows <= store.row_chunk_ && row_chunk_ < store.count_chunks_.size()) {
                const Count* counts = store.count_chunks_[row_chunk_].data() + row_in_chunk_;
                std::size_t total = 0;
                for (std::size_t r = 0; r < rows; ++r) total += counts[r];
                const bool allocated = entry_chunk_ < store.index_chunks_.size();
                if (total == 0 || (allocated && total <= store.entry_chunk_ - entry_in_chunk_)) {
                    const Index* index = allocated ? store.index_chunks_[entry_chunk_].data() + entry_in_chunk_ : nullptr;
                    const float* value = allocated ? store.value_chunks_[entry_chunk_].data() + entry_in_chunk_ : nullptr;
                    for (std::size_t r = 0; r < rows; ++r) {
                        visit(SparseRow{counts[r], index, value});
                        index += counts[r];
                        value += counts[r];
                    }
                    advance(rows, total);
                    return;
                }
            }
            for (std::size_t r = 0; r < rows; ++r) visit(next());
        }

    private:
        // Steps over `rows` rows holding `entries` entries, all within the current chunks.
        void advance(std::size_t rows, std::size_t entries) {
            row_in_chunk_ += rows;
            if (row_in_chunk_ == rows_->row_chunk_) {
                ++row_chunk_;
                row_in_chunk_ = 0;
            }
            entry_in_chunk_ += entries;
            if (entry_in_chunk_ == rows_->entry_chunk_) {
                ++entry_chunk_;
                entry_in_chunk_ = 0;
            }
        }

        const SparseRows* rows_;
        Buffer<Index> index_;
        Buffer<float> value_;
        std::size_t row_chunk_ = 0, row_in_chunk_ = 0, entry_chunk_ = 0, entry_in_chunk_ = 0;
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
