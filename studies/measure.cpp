#include "studies/measure.hpp"

#include <cmath>
#include <fstream>
#include <new>
#include <sstream>

#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/timer.hpp"
#include "studies/token_data.hpp"

namespace trikv {
namespace {

std::size_t steps_of(const StudyPoint& point) { return std::size_t(point.warmup + point.repetitions); }

// Process peak RSS: Linux resets VmHWM when "5" is written to clear_refs.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

double read_status_kib(const std::string& field) {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024.0;
    return 0;
}

// Token t of every head, as the [heads, d] float rows a cache takes.
void gather(const Heads<double>& x, std::size_t t, std::vector<float>& out) {
    const std::size_t heads = x.shape(0), n = x.shape(1), d = x.shape(2);
    for (std::size_t h = 0; h < heads; ++h)
        for (std::size_t l = 0; l < d; ++l) out[h * d + l] = static_cast<float>(x.data()[(h * n + t) * d + l]);
}

// The exact answer for query t over tokens 0..t, in float64, every head.
std::vector<double> exact_step(const TokenData& data, std::size_t t, double scale) {
    const std::size_t heads = data.q.shape(0), n = data.q.shape(1), d = data.q.shape(2);
    std::vector<double> out(heads * d);
    MemoryMeter scratch;
    for (std::size_t h = 0; h < heads; ++h) {
        auto rows = [&](const Heads<double>& x) { return RowsView<double>::contiguous(x.data() + h * n * d, t + 1, d); };
        tensor_decode(data.q.data() + (h * n + t) * d, rows(data.k1), rows(data.k2), rows(data.v1), rows(data.v2),
                      scale, out.data() + h * d, scratch);
    }
    return out;
}

}  // namespace

ResultRow describe_point(const StudyPoint& point) {
    ResultRow row;
    row.cache = point.cache;
    row.cache_type = point.cache.substr(0, point.cache.find(':'));
    row.exact = find_cache_type(row.cache_type).exact;
    row.workload = point.workload;
    row.n = point.n;
    row.d = point.d;
    row.heads = point.heads;
    row.dtype = point.dtype;
    row.data = point.data.label();
    row.seed = point.seed;
    row.key = point.key();
    return row;
}

double projected_bytes(const StudyPoint& point) {
    const auto cache = make_cache(point.cache, {point.heads, point.d, default_tensor_scale(point.d)});
    const CacheCost cost = cache->cost(point.n + steps_of(point));
    return cost.resident_bytes + cost.transient_bytes;
}

double available_memory_bytes() {
    std::ifstream in("/proc/meminfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("MemAvailable:", 0) == 0) return std::stod(line.substr(13)) * 1024.0;
    return 0;
}

ResultRow measure_point(const StudyPoint& point, const MachinePeaks& peaks, double mem_limit_bytes) {
    ResultRow row = describe_point(point);
    const double projected = projected_bytes(point);
    if (projected > mem_limit_bytes) {
        std::ostringstream reason;
        reason << "projected " << projected << " bytes exceed the memory limit of " << mem_limit_bytes << " bytes";
        row.status = "skipped";
        row.reason = reason.str();
        return row;
    }
    try {
        reset_peak_rss();
        const double scale = default_tensor_scale(point.d);
        const std::size_t steps = steps_of(point), width = point.heads * point.d;
        const TokenData data = make_token_data(point.data, point.heads, point.n + steps, point.d, point.seed);
        const auto cache = make_cache(point.cache, {point.heads, point.d, scale});
        cache->reserve(point.n + steps);

        std::vector<float> q(width), k1(width), k2(width), v1(width), v2(width), out(width);
        auto append = [&](std::size_t t) {
            gather(data.k1, t, k1);
            gather(data.k2, t, k2);
            gather(data.v1, t, v1);
            gather(data.v2, t, v2);
            cache->append(k1.data(), k2.data(), v1.data(), v2.data());
        };
        for (std::size_t t = 0; t < point.n; ++t) append(t);

        std::vector<double> step_ms;
        for (std::size_t s = 0; s < steps; ++s) {
            const std::size_t t = point.n + s;
            gather(data.q, t, q);
            Stopwatch watch;
            append(t);
            cache->attend(q.data(), out.data());
            const double ms = watch.milliseconds();
            if (s < std::size_t(point.warmup)) continue;
            step_ms.push_back(ms);
            row.transient_peak_bytes = std::max(row.transient_peak_bytes, double(cache->transient_peak_bytes()));
            // Accuracy on the same step: relative L2 over all heads, and the largest abs error.
            const std::vector<double> exact = exact_step(data, t, scale);
            double diff2 = 0, ref2 = 0;
            for (std::size_t i = 0; i < width; ++i) {
                const double e = double(out[i]) - exact[i];
                diff2 += e * e;
                ref2 += exact[i] * exact[i];
                row.max_abs_error = std::max(row.max_abs_error, std::abs(e));
            }
            row.rel_l2_error = std::max(row.rel_l2_error, std::sqrt(diff2 / std::max(ref2, 1e-300)));
        }
        row.bytes = double(cache->bytes());
        row.rss_peak_bytes = read_status_kib("VmHWM");
        row.step_ms_median = median(step_ms);
        row.step_ms_p25 = quantile(step_ms, 0.25);
        row.step_ms_p75 = quantile(step_ms, 0.75);
        row.step_ms_min = quantile(step_ms, 0.0);
        const CacheCost cost = cache->cost(point.n + 1);
        row.flops = cost.flops;
        row.bytes_moved = cost.bytes_moved;
        const double seconds = row.step_ms_median / 1e3;
        row.gflops = cost.flops / seconds / 1e9;
        row.gbps = cost.bytes_moved / seconds / 1e9;
        row.gflops_fraction = peaks.sgemm_gflops > 0 ? row.gflops / peaks.sgemm_gflops : 0;
        row.gbps_fraction = peaks.read_gbps > 0 ? row.gbps / peaks.read_gbps : 0;
    } catch (const Error& e) {
        row.status = "failed";
        row.reason = e.what();
    } catch (const std::bad_alloc&) {
        row.status = "failed";
        row.reason = "out of memory";
    }
    return row;
}

}  // namespace trikv
