#pragma once
// A read-only view of n rows of d scalars, stored either contiguously or in equal-size
// chunks (how caches grow without copying). Kernels tile along rows and ask how many rows
// are contiguous from a given row, so every tile they hand to BLAS is one dense block.
#include <algorithm>
#include <cstddef>

namespace trikv {

template <class T>
struct RowsView {
    const T* const* chunks = nullptr;  // chunk c holds rows [c*chunk_rows, (c+1)*chunk_rows)
    const T* single = nullptr;         // used instead of chunks for contiguous storage
    std::size_t chunk_rows = 0;
    std::size_t rows = 0;
    std::size_t dim = 0;
    std::size_t first = 0;  // chunked views: row 0 is row `first` of chunks[0] (see rows_from)

    static RowsView contiguous(const T* data, std::size_t rows, std::size_t dim) {
        return {nullptr, data, std::max<std::size_t>(rows, 1), rows, dim, 0};
    }
    static RowsView chunked(const T* const* chunks, std::size_t chunk_rows, std::size_t rows,
                            std::size_t dim) {
        return {chunks, nullptr, chunk_rows, rows, dim, 0};
    }

    const T* row(std::size_t i) const {
        if (!chunks) return single + i * dim;
        i += first;
        return chunks[i / chunk_rows] + (i % chunk_rows) * dim;
    }
    // Rows stored back to back starting at row i (up to the chunk's end and the view's end).
    std::size_t contiguous_from(std::size_t i) const {
        return std::min(rows - i, chunk_rows - (first + i) % chunk_rows);
    }
    // The first `count` rows, same storage.
    RowsView prefix(std::size_t count) const {
        RowsView view = *this;
        view.rows = count;
        return view;
    }
    // Rows [begin, begin + count), same storage; begin need not be chunk-aligned.
    RowsView rows_from(std::size_t begin, std::size_t count) const {
        RowsView view = *this;
        view.rows = count;
        if (!chunks) {
            view.single = single + begin * dim;
            view.chunk_rows = std::max<std::size_t>(count, 1);
            return view;
        }
        view.chunks = chunks + (first + begin) / chunk_rows;
        view.first = (first + begin) % chunk_rows;
        return view;
    }
};

}  // namespace trikv
