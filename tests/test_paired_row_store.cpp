// caches/paired_row_store.hpp: two streams kept tile-interleaved. The rows read back are the
// rows appended (float exactly, reduced formats as their decoder gives them), each tile's
// value rows follow its key rows in memory (the point of the layout), and every byte —
// slabs and the tile index — is charged to the meter, equal to bytes_for(). Sub-ranges of
// the stored rows read the same rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "caches/paired_row_store.hpp"
#include "framework/rng.hpp"

using namespace trikv;

namespace {

constexpr std::size_t kTile = 4, kSlabTiles = 3;

template <class S>
void check_store(std::size_t dim) {
    MemoryMeter meter;
    Rng rng(7);
    std::vector<float> first, second;
    std::vector<float> staging(dim);
    {
        PairedRowStore<S> store(dim, kTile, kSlabTiles, meter);
        for (std::size_t rows = 1; rows <= 40; ++rows) {
            const std::size_t at = first.size();
            for (std::size_t l = 0; l < dim; ++l) first.push_back(float(rng.normal())), second.push_back(float(rng.normal()));
            store.append_with([&](float* row) { std::copy_n(first.data() + at, dim, row); },
                              [&](float* row) { std::copy_n(second.data() + at, dim, row); }, staging.data());
            REQUIRE(store.rows() == rows);
            REQUIRE(meter.current() == store.bytes_for(rows));
        }
        // Rows read back; a reduced format reads back what its own encoder and decoder give.
        std::vector<float> got(40 * dim), want(dim);
        for (auto [stored, rows] : {std::pair{store.first(), &first}, std::pair{store.second(), &second}}) {
            stored.decode(0, 40, got.data());
            for (std::size_t i = 0; i < 40; ++i) {
                const float* in = rows->data() + i * dim;
                if constexpr (std::is_same_v<S, float>) {
                    std::copy_n(in, dim, want.data());
                } else {
                    std::vector<S> encoded(dim);
                    if constexpr (kRowScaled<S>) {
                        const float scale = encode(in, encoded.data(), dim);
                        decode(encoded.data(), &scale, 1, dim, want.data());
                    } else {
                        encode(in, encoded.data(), dim);
                        decode(encoded.data(), want.data(), dim);
                    }
                }
                INFO("row " << i);
                for (std::size_t l = 0; l < dim; ++l) REQUIRE(got[i * dim + l] == want[l]);
            }
        }
        // A sub-range (StoredRows::rows_from, then prefix) reads the same rows, int8 scales
        // included, from starts inside and on tile boundaries.
        std::vector<float> part(20 * dim);
        for (std::size_t begin : {0, 3, 4, 17}) {
            store.first().rows_from(begin, 40 - begin).prefix(20).decode(0, 20, part.data());
            store.first().decode(begin, 20, got.data());
            INFO("begin " << begin);
            CHECK(std::equal(part.begin(), part.end(), got.begin()));
        }
        // Layout: tile t's value rows start where its key rows end (rounded up to 64-byte
        // alignment); rows within a tile are contiguous.
        const std::size_t key_tile_bytes = (kTile * dim * sizeof(S) + 63) / 64 * 64;
        for (std::size_t t = 0; t < 10; ++t) {
            const std::size_t i = t * kTile;
            CHECK(store.first().contiguous_from(i) == kTile);
            CHECK(reinterpret_cast<const unsigned char*>(store.second().values.row(i)) ==
                  reinterpret_cast<const unsigned char*>(store.first().values.row(i)) + key_tile_bytes);
        }
        store.clear();
        CHECK(store.rows() == 0);
        CHECK(meter.current() == 0);
        store.reserve(25);  // 3 slabs of 12 rows; the index holds 3·bit_ceil(3) = 12 tiles
        const std::size_t reserved = meter.current();
        CHECK(reserved == store.bytes_for(25));
        for (std::size_t r = 0; r < 36; ++r)
            store.append_with([&](float* row) { std::fill_n(row, dim, 1.0f); }, [&](float* row) { std::fill_n(row, dim, 2.0f); },
                              staging.data());
        CHECK(meter.current() == reserved);  // appends within the reservation allocate nothing
        PairedRowStore<S> moved(std::move(store));
        CHECK(meter.current() == reserved);  // a move neither frees nor charges twice
    }
    CHECK(meter.current() == 0);
}

}  // namespace

TEST_CASE("paired row store: rows, layout and bytes, every format", "[caches][memory]") {
    SECTION("f32") { check_store<float>(5); }
    SECTION("bf16") { check_store<bf16>(6); }
    SECTION("fp16") { check_store<fp16>(3); }
    SECTION("int8") { check_store<std::int8_t>(7); }
}

TEST_CASE("paired row store: bytes_for counts whole slabs and a doubling index", "[caches][memory]") {
    MemoryMeter meter;
    const PairedRowStore<float> floats(8, 64, 16, meter);
    const std::size_t slab = 16 * 2 * 64 * 8 * sizeof(float);  // 16 tiles of 64 key + 64 value rows
    CHECK(floats.bytes_for(0) == 0);
    CHECK(floats.bytes_for(1) == slab + 2 * 16 * sizeof(void*));
    CHECK(floats.bytes_for(1024) == slab + 2 * 16 * sizeof(void*));
    CHECK(floats.bytes_for(1025) == 2 * slab + 2 * 32 * sizeof(void*));
    CHECK(floats.bytes_for(3 * 1024 + 1) == 4 * slab + 2 * 64 * sizeof(void*));
    CHECK(floats.bytes_for(5 * 1024) == 5 * slab + 2 * 128 * sizeof(void*));
    // int8: 64 float scales per tile and stream beside the rows, and their own index.
    const PairedRowStore<std::int8_t> bytes(8, 64, 16, meter);
    CHECK(bytes.bytes_for(1) == 16 * 2 * 64 * (8 + sizeof(float)) + 4 * 16 * sizeof(void*));
}
