#include "studies/measure/row_summary.hpp"

#include <algorithm>
#include <cmath>

#include "framework/error.hpp"
#include "framework/finite.hpp"
#include "studies/measure/statistics.hpp"

namespace trikv {

void record_error(ResultRow& row, const std::vector<float>& out, const std::vector<double>& exact, std::size_t count,
                  std::size_t width) {
    // A NaN would drop out of the maxima below (std::max ignores it) and leave a perfect error:
    // an output that overflowed fails the point, as `trikv attend` refuses it.
    const std::size_t bad = first_non_finite(out.data(), count * width);
    if (bad < count * width)
        throw Error(overflow_message("output of query " + std::to_string(bad / width) + " of a step", out[bad], "float32",
                                     "lower the study's scale"));
    for (std::size_t r = 0; r < count; ++r) {
        double diff2 = 0, ref2 = 0;
        for (std::size_t i = r * width; i < (r + 1) * width; ++i) {
            const double e = double(out[i]) - exact[i];
            diff2 += e * e;
            ref2 += exact[i] * exact[i];
            row.max_abs_error = std::max(row.max_abs_error, std::abs(e));
        }
        row.rel_l2_error = std::max(row.rel_l2_error, std::sqrt(diff2 / std::max(ref2, 1e-300)));
    }
}

void QueryErrors::add(const float* out, const double* exact, const double* squared, std::size_t width) {
    double diff2 = 0, ref2 = 0, attended2 = 0;
    for (std::size_t i = 0; i < width; ++i) {
        const double e = double(out[i]) - exact[i];
        diff2 += e * e;
        ref2 += exact[i] * exact[i];
        attended2 += squared[i];
    }
    relative.push_back(std::sqrt(diff2 / std::max(ref2, 1e-300)));
    value.push_back(std::sqrt(diff2 / std::max(attended2, 1e-300)));
}

void record_accuracy(ResultRow& row, const QueryErrors& errors) {
    if (errors.relative.empty()) return;
    row.accuracy_positions = errors.relative.size();
    const Spread relative = spread_of(errors.relative), value = spread_of(errors.value);
    row.rel_error_median = relative.median, row.rel_error_p90 = relative.p90, row.rel_error_max = relative.max;
    row.value_error_median = value.median, row.value_error_p90 = value.p90, row.value_error_max = value.max;
}

std::vector<std::size_t> accuracy_positions_of(std::size_t n, std::size_t count) {
    count = std::min(count, n);
    std::vector<std::size_t> positions;
    for (std::size_t i = 1; i <= count; ++i) positions.push_back(i * n / count - 1);
    return positions;
}

void record_times(ResultRow& row, const std::vector<double>& step_ms, double flops, double bytes_moved,
                  const MachinePeaks& peaks) {
    row.step_ms_median = median(step_ms);
    row.step_ms_p25 = quantile(step_ms, 0.25);
    row.step_ms_p75 = quantile(step_ms, 0.75);
    row.step_ms_min = quantile(step_ms, 0.0);
    const MedianInterval interval = median_interval(step_ms);
    row.step_ms_median_ci_low = interval.low;
    row.step_ms_median_ci_high = interval.high;
    row.step_ms_median_ci_level = interval.level;
    row.flops = flops;
    row.bytes_moved = bytes_moved;
    const double seconds = row.step_ms_median / 1e3;
    row.gflops = flops / seconds / 1e9;
    row.gbps = bytes_moved / seconds / 1e9;
    row.gflops_fraction = peaks.sgemm_gflops > 0 ? row.gflops / peaks.sgemm_gflops : 0;
    row.gbps_fraction = peaks.read_gbps > 0 ? row.gbps / peaks.read_gbps : 0;
}

}  // namespace trikv
