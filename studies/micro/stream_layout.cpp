// Micro-benchmark behind the product cache's layout and the streaming kernel's loop order
// (docs/performance.md, "Streaming: loop order and layout"). One decode attend over `rows` key
// and value rows of d floats — scores, online softmax, value accumulation, in tiles — four ways:
//
//   loop order:  four rows at a time (four dot chains, four streams a row apart) | one row after another
//   layout:      keys and values in separate 1024-row chunks | tiles of keys and values interleaved
//
// plus a plain sum over the same bytes as the yardstick. The variants run in alternation, one
// repetition each per round, so a change in the machine's load hits them all alike; medians
// and p25–p75 of GB/s (2·rows·d·4 bytes per attend). Compiled for the build machine's ISA
// (-march=native, see CMakeLists.txt): it studies the memory system, not dispatch.
//
//   build/bin/trikv_stream_micro [d] [rows] [threads] [rounds]     (default 128 1048576 2 12)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kChunkRows = 1024, kTileRows = 256;

struct Rows {
    std::vector<const float*> keys, values;  // one pointer per tile of kTileRows rows
    std::vector<float*> owned;
    ~Rows() {
        for (float* p : owned) ::operator delete(p, std::align_val_t{64});
    }
    float* allocate(std::size_t floats) {
        auto* p = static_cast<float*>(::operator new(floats * sizeof(float), std::align_val_t{64}));
        for (std::size_t i = 0; i < floats; ++i) p[i] = float(i % 7) * 0.01f;
        owned.push_back(p);
        return p;
    }
};

// Separate: keys in 1024-row chunks, values in their own (the product cache before).
void fill_separate(Rows& rows, std::size_t n, std::size_t d) {
    for (std::size_t c = 0; c < n / kChunkRows; ++c) {
        float* k = rows.allocate(kChunkRows * d);
        float* v = rows.allocate(kChunkRows * d);
        for (std::size_t t = 0; t < kChunkRows / kTileRows; ++t) {
            rows.keys.push_back(k + t * kTileRows * d);
            rows.values.push_back(v + t * kTileRows * d);
        }
    }
}

// Interleaved: each tile's keys then its values, back to back (caches/paired_row_store.hpp).
void fill_interleaved(Rows& rows, std::size_t n, std::size_t d) {
    for (std::size_t c = 0; c < n / kChunkRows; ++c) {
        float* slab = rows.allocate(2 * kChunkRows * d);
        for (std::size_t t = 0; t < kChunkRows / kTileRows; ++t) {
            rows.keys.push_back(slab + 2 * t * kTileRows * d);
            rows.values.push_back(slab + (2 * t + 1) * kTileRows * d);
        }
    }
}

void score_four(const float* q, const float* k, std::size_t d, float* s) {
    for (std::size_t r = 0; r < kTileRows; r += 4) {
        const float *k0 = k + r * d, *k1 = k0 + d, *k2 = k1 + d, *k3 = k2 + d;
        float a = 0, b = 0, c = 0, e = 0;
#pragma omp simd reduction(+ : a, b, c, e)
        for (std::size_t l = 0; l < d; ++l) a += q[l] * k0[l], b += q[l] * k1[l], c += q[l] * k2[l], e += q[l] * k3[l];
        s[r] = a, s[r + 1] = b, s[r + 2] = c, s[r + 3] = e;
    }
}
void accumulate_four(const float* v, const float* p, std::size_t d, float* acc) {
    for (std::size_t r = 0; r < kTileRows; r += 4) {
        const float *v0 = v + r * d, *v1 = v0 + d, *v2 = v1 + d, *v3 = v2 + d;
#pragma omp simd
        for (std::size_t l = 0; l < d; ++l) acc[l] += (p[r] * v0[l] + p[r + 1] * v1[l]) + (p[r + 2] * v2[l] + p[r + 3] * v3[l]);
    }
}
void score_one(const float* q, const float* k, std::size_t d, float* s) {
    for (std::size_t r = 0; r < kTileRows; ++r) {
        const float* row = k + r * d;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (std::size_t l = 0; l < d; ++l) dot += q[l] * row[l];
        s[r] = dot;
    }
}
void accumulate_one(const float* v, const float* p, std::size_t d, float* acc) {
    for (std::size_t r = 0; r < kTileRows; ++r) {
        const float* row = v + r * d;
#pragma omp simd
        for (std::size_t l = 0; l < d; ++l) acc[l] += p[r] * row[l];
    }
}

using Score = void (*)(const float*, const float*, std::size_t, float*);
using Accumulate = void (*)(const float*, const float*, std::size_t, float*);

// Tiles [first, last) of an attend: scores, online softmax, accumulation. Returns a checksum.
float attend_tiles(const Rows& rows, std::size_t first, std::size_t last, std::size_t d, Score score,
                   Accumulate accumulate) {
    std::vector<float> q(d, 0.01f), acc(d, 0.0f), s(kTileRows);
    float max = -INFINITY, norm = 0;
    for (std::size_t t = first; t < last; ++t) {
        score(q.data(), rows.keys[t], d, s.data());
        const float top = *std::max_element(s.begin(), s.end());
        if (top > max) {
            const float shrink = std::exp(max - top);
            for (float& a : acc) a *= shrink;
            norm *= shrink, max = top;
        }
        for (float& x : s) norm += (x = std::exp(x - max));
        accumulate(rows.values[t], s.data(), d, acc.data());
    }
    return acc[0] / norm;
}

float sum_tiles(const Rows& rows, std::size_t first, std::size_t last, std::size_t d) {
    float total = 0;
    for (std::size_t t = first; t < last; ++t)
        for (const float* tile : {rows.keys[t], rows.values[t]}) {
            float sum = 0;
#pragma omp simd reduction(+ : sum)
            for (std::size_t i = 0; i < kTileRows * d; ++i) sum += tile[i];
            total += sum;
        }
    return total;
}

// Runs `work(first_tile, last_tile)` split evenly over `threads` threads; seconds.
double timed(std::size_t tiles, int threads, const std::function<float(std::size_t, std::size_t)>& work) {
    static volatile float sink = 0;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int w = 1; w < threads; ++w)
        pool.emplace_back([&, w] { sink = sink + work(tiles * w / threads, tiles * (w + 1) / threads); });
    sink = sink + work(0, tiles / threads);
    for (std::thread& t : pool) t.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t d = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 128;
    const std::size_t n = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : std::size_t(1) << 20;
    const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
    const int rounds = argc > 4 ? std::atoi(argv[4]) : 12;
    if (d == 0 || d % 4 != 0 || n < kChunkRows || n % kChunkRows != 0 || threads < 1 || rounds < 3) {
        std::fprintf(stderr, "usage: trikv_stream_micro [d: multiple of 4] [rows: multiple of %zu] [threads ≥ 1] [rounds ≥ 3]\n",
                     kChunkRows);
        return 2;
    }
    Rows separate, interleaved;
    fill_separate(separate, n, d);
    fill_interleaved(interleaved, n, d);
    const std::size_t tiles = n / kTileRows;
    struct Variant {
        std::string name;
        std::function<float(std::size_t, std::size_t)> work;
        std::vector<double> gbps;
    };
    std::vector<Variant> variants = {
        {"four rows at a time, separate", [&](auto a, auto b) { return attend_tiles(separate, a, b, d, score_four, accumulate_four); }, {}},
        {"one row at a time, separate", [&](auto a, auto b) { return attend_tiles(separate, a, b, d, score_one, accumulate_one); }, {}},
        {"four rows at a time, interleaved", [&](auto a, auto b) { return attend_tiles(interleaved, a, b, d, score_four, accumulate_four); }, {}},
        {"one row at a time, interleaved", [&](auto a, auto b) { return attend_tiles(interleaved, a, b, d, score_one, accumulate_one); }, {}},
        {"plain sum, separate", [&](auto a, auto b) { return sum_tiles(separate, a, b, d); }, {}},
        {"plain sum, interleaved", [&](auto a, auto b) { return sum_tiles(interleaved, a, b, d); }, {}},
    };
    const double bytes = 2.0 * double(n) * double(d) * sizeof(float);
    for (int round = 0; round < rounds; ++round)
        for (Variant& v : variants) {
            const double seconds = timed(tiles, threads, v.work);
            if (round > 0) v.gbps.push_back(bytes / seconds / 1e9);  // round 0 warms up
        }
    std::printf("d = %zu, %zu key and value rows (%.2f GB), %d threads, %d rounds; GB/s median [p25-p75]\n", d, n,
                bytes / 1e9, threads, rounds - 1);
    for (Variant& v : variants) {
        std::sort(v.gbps.begin(), v.gbps.end());
        const std::size_t m = v.gbps.size();
        std::printf("  %-34s %6.1f [%.1f-%.1f]\n", v.name.c_str(), v.gbps[m / 2], v.gbps[m / 4], v.gbps[(3 * m) / 4]);
    }
    return 0;
}
