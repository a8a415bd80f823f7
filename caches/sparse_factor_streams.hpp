#pragma once
// The four factor streams K1, K2, V1, V2 of every head as compressed rows (caches/
// sparse_rows.hpp), appended token by token: what sparse-factor stores, and what
// sparse-product keeps to form the pair rows of each new token.
#include <cstddef>
#include <vector>

#include "caches/sparse_rows.hpp"
#include "framework/memory.hpp"

namespace trikv {

class SparseFactorStreams {
public:
    enum Stream { k1 = 0, k2 = 1, v1 = 2, v2 = 3 };

    SparseFactorStreams(std::size_t heads, std::size_t dim, std::size_t entry_chunk, std::size_t row_chunk,
                        MemoryMeter& meter) {
        stores_.reserve(4 * heads);
        for (std::size_t i = 0; i < 4 * heads; ++i) stores_.emplace_back(dim, entry_chunk, row_chunk, meter);
    }

    // Appends one token; each input is [heads, dim] float, of which the non-zeros are kept.
    void append(const float* k1_in, const float* k2_in, const float* v1_in, const float* v2_in) {
        const float* inputs[4] = {k1_in, k2_in, v1_in, v2_in};
        const std::size_t dim = stores_.front().dim();
        for (std::size_t head = 0; head < heads(); ++head)
            for (int s = 0; s < 4; ++s) store(head, static_cast<Stream>(s)).append(inputs[s] + head * dim);
    }
    SparseRows& store(std::size_t head, Stream s) { return stores_[4 * head + s]; }
    const SparseRows& store(std::size_t head, Stream s) const { return stores_[4 * head + s]; }

    void reserve_rows(std::size_t tokens) {
        for (SparseRows& s : stores_) s.reserve_rows(tokens);
    }
    void clear() {
        for (SparseRows& s : stores_) s.clear();
    }
    std::size_t heads() const { return stores_.size() / 4; }
    std::size_t dim() const { return stores_.front().dim(); }

    // Observed density of stream s: stored entries / (rows · dim), of one head or (without
    // one) of all heads; 1 (the dense bound) before any token.
    double density(std::size_t head, Stream s) const { return density_of(store(head, s).entries(), store(head, s).rows()); }
    double density(Stream s) const {
        std::size_t entries = 0, rows = 0;
        for (std::size_t head = 0; head < heads(); ++head) {
            entries += store(head, s).entries();
            rows += store(head, s).rows();
        }
        return density_of(entries, rows);
    }
    // Bytes all streams of all heads would hold after `tokens` tokens at each stream's observed
    // density (so exactly bytes() at the current size).
    double expected_bytes(std::size_t tokens) const {
        double bytes = 0;
        for (std::size_t head = 0; head < heads(); ++head)
            for (int s = 0; s < 4; ++s) {
                const SparseRows& rows = store(head, static_cast<Stream>(s));
                bytes += double(rows.bytes_for(tokens, expected_entries(density(head, static_cast<Stream>(s)), tokens)));
            }
        return bytes;
    }
    // Entries of `rows` rows at `density`, to the nearest whole entry.
    std::size_t expected_entries(double density, std::size_t rows) const {
        return static_cast<std::size_t>(density * double(dim()) * double(rows) + 0.5);
    }

private:
    double density_of(std::size_t entries, std::size_t rows) const {
        return rows == 0 ? 1.0 : double(entries) / (double(rows) * double(dim()));
    }

    std::vector<SparseRows> stores_;  // [head][stream]
};

}  // namespace trikv
