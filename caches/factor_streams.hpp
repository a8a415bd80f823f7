#pragma once
// The four factor streams K1, K2, V1, V2 of every head, appended token by token. Every
// tensor cache that must form new pairs keeps these (the product cache needs the old k's
// to build the 2t+1 new pair rows of token t). T is float, double or a reduced storage
// format (framework/storage.hpp); rows are encoded on append.
#include <cstddef>
#include <vector>

#include "caches/row_store.hpp"
#include "framework/memory.hpp"

namespace trikv {

template <class T>
class FactorStreams {
public:
    enum Stream { k1 = 0, k2 = 1, v1 = 2, v2 = 3 };

    FactorStreams(std::size_t heads, std::size_t dim, std::size_t chunk_rows, MemoryMeter& meter) {
        stores_.reserve(4 * heads);
        for (std::size_t i = 0; i < 4 * heads; ++i) stores_.emplace_back(dim, chunk_rows, meter);
    }

    // Appends one token; each input is [heads, dim] float, encoded in T.
    void append(const float* k1_in, const float* k2_in, const float* v1_in, const float* v2_in) {
        const float* inputs[4] = {k1_in, k2_in, v1_in, v2_in};
        const std::size_t dim = stores_.front().dim();
        for (std::size_t head = 0; head < heads(); ++head)
            for (int s = 0; s < 4; ++s) store(head, static_cast<Stream>(s)).append(inputs[s] + head * dim);
    }
    RowStore<T>& store(std::size_t head, Stream s) { return stores_[4 * head + s]; }
    const RowStore<T>& store(std::size_t head, Stream s) const { return stores_[4 * head + s]; }
    RowsView<T> view(std::size_t head, Stream s) const { return store(head, s).view(); }
    StoredRows<T> stored(std::size_t head, Stream s) const { return store(head, s).stored(); }

    void reserve(std::size_t tokens) {
        for (RowStore<T>& s : stores_) s.reserve(tokens);
    }
    void clear() {
        for (RowStore<T>& s : stores_) s.clear();
    }
    std::size_t heads() const { return stores_.size() / 4; }
    // Bytes all four streams of all heads hold after `tokens` tokens.
    std::size_t bytes_for(std::size_t tokens) const { return stores_.size() * stores_.front().bytes_for(tokens); }

private:
    std::vector<RowStore<T>> stores_;  // [head][stream]
};

}  // namespace trikv
