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

    static RowsView contiguous(const T* data, std::size_t rows, std::size_t dim) {
        return {nullptr, data, std::max<std::size_t>(rows, 1), rows, dim};
    }
    static RowsView chunked(const T* const* chunks, std::size_t chunk_rows, std::size_t rows,
                            std::size_t dim) {
        return {chunks, nullptr, chunk_rows, rows, dim};
    }

    const T* row(std::size_t i) const {
        return chunks ? chunks[i / chunk_rows] + (i % chunk_rows) * dim : single + i * dim;
    }
    // Rows stored back to back starting at row i (up to the chunk's end and the view's end).
    std::size_t contiguous_from(std::size_t i) const {
        return std::min(rows - i, chunk_rows - i % chunk_rows);
    }
    // The first `count` rows, same storage.
    RowsView prefix(std::size_t count) const {
        RowsView view = *this;
        view.rows = count;
        return view;
    }
};

}  // namespace trikv
