#include "studies/measure/machine_peaks.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>

#include "attention/blas.hpp"
#include "framework/memory.hpp"
#include "framework/threads.hpp"
#include "framework/timer.hpp"

namespace trikv {

double quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    const double position = q * static_cast<double>(values.size() - 1);
    const std::size_t below = static_cast<std::size_t>(position);
    const std::size_t above = std::min(below + 1, values.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return values[below] * (1 - fraction) + values[above] * fraction;
}

double median(std::vector<double> values) { return quantile(std::move(values), 0.5); }

double measure_sgemm_gflops(int threads, int repetitions) {
    constexpr int n = 2048;
    MemoryMeter meter;
    Buffer<float> a(n * n, meter), b(n * n, meter), c(n * n, meter);
    std::fill_n(a.data(), a.size(), 0.5f);
    std::fill_n(b.data(), b.size(), 0.25f);
    BlasThreads blas_threads(threads);
    std::vector<double> rates;
    for (int r = 0; r <= repetitions; ++r) {  // the first run warms up
        Stopwatch watch;
        blas::gemm(n, n, n, 1.0f, a.data(), n, b.data(), n, false, 0.0f, c.data(), n);
        const double seconds = watch.seconds();
        if (r > 0) rates.push_back(2.0 * n * double(n) * n / seconds / 1e9);
    }
    return median(rates);
}

namespace {

float sum_block(const float* x, std::size_t n) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (std::size_t i = 0; i < n; ++i) sum += x[i];
    return sum;
}

// The same bytes read as rows of 64 floats, each dotted with a vector held in L1 — how the
// streaming attention kernel reads (attention/matrix_attention.cpp). Measured 5–10% faster than
// the plain sum on these machines, so the peak takes the better of the two: a kernel's
// fraction of it must not exceed 100% because the yardstick read less well than the kernel.
float dot_rows_block(const float* x, std::size_t n) {
    constexpr std::size_t d = 64;
    alignas(64) float q[d];
    std::fill_n(q, d, 0.5f);
    float total = 0.0f;
    for (std::size_t r = 0; r + d <= n; r += d) {
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (std::size_t l = 0; l < d; ++l) dot += q[l] * x[r + l];
        total += dot;
    }
    return total;
}

// Median GB/s of one read kernel over 1 GiB, both threads, after one warm-up pass.
template <class Kernel>
double read_gbps(const Buffer<float>& data, int repetitions, Kernel kernel) {
    const std::size_t count = data.size();
    std::vector<double> rates;
    volatile float sink = 0;
    for (int r = 0; r <= repetitions; ++r) {
        Stopwatch watch;
        sink = tbb::parallel_reduce(
            tbb::blocked_range<std::size_t>(0, count, 1 << 16), 0.0f,
            [&](const auto& range, float acc) { return acc + kernel(data.data() + range.begin(), range.size()); },
            [](float a, float b) { return a + b; });
        const double seconds = watch.seconds();
        if (r > 0) rates.push_back(count * sizeof(float) / seconds / 1e9);
    }
    (void)sink;
    return median(rates);
}

double read_gbps(int repetitions) {
    constexpr std::size_t count = std::size_t(256) << 20;  // 1 GiB of floats
    MemoryMeter meter;
    Buffer<float> data(count, meter);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count), [&](const auto& r) {
        std::fill(data.data() + r.begin(), data.data() + r.end(), 1.0f);
    });
    return std::max(read_gbps(data, repetitions, sum_block), read_gbps(data, repetitions, dot_rows_block));
}

}  // namespace

MachinePeaks measure_machine_peaks(int threads, int repetitions) {
    MachinePeaks peaks;
    peaks.threads = threads;
    peaks.sgemm_gflops = measure_sgemm_gflops(threads, repetitions);
    peaks.read_gbps = read_gbps(repetitions);
    return peaks;
}

PeaksAround::PeaksAround(int threads, bool measure) : threads_(threads), measure_(measure) {
    before_.threads = threads;
    if (measure_) before_ = measure_machine_peaks(threads);
}

MachinePeaks PeaksAround::after_point() {
    if (!measure_) return before_;
    const MachinePeaks after = measure_machine_peaks(threads_);
    MachinePeaks larger = after;
    larger.sgemm_gflops = std::max(before_.sgemm_gflops, after.sgemm_gflops);
    larger.read_gbps = std::max(before_.read_gbps, after.read_gbps);
    before_ = after;
    return larger;
}

}  // namespace trikv
