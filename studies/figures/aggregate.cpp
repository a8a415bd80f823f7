#include "studies/figures/aggregate.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "studies/measure/machine_peaks.hpp"

namespace trikv {
namespace {

bool has_positions(const ResultRow& r) { return r.accuracy_positions > 0; }

double error_of(const ResultRow& r, ErrorMetric metric) {
    if (!has_positions(r) || metric == ErrorMetric::worst_timed_step) return r.rel_l2_error;
    return metric == ErrorMetric::value_normalised ? r.value_error_median : r.rel_error_median;
}

ErrorMetric choose_metric(const std::vector<ResultRow>& rows) {
    if (std::none_of(rows.begin(), rows.end(), has_positions)) return ErrorMetric::worst_timed_step;
    const bool small_outputs = std::any_of(rows.begin(), rows.end(), [](const ResultRow& r) {
        return has_positions(r) && r.rel_error_median > kSmallOutputRatio * r.value_error_median;
    });
    return small_outputs ? ErrorMetric::value_normalised : ErrorMetric::relative;
}

}  // namespace

std::string metric_name(ErrorMetric metric) {
    return metric == ErrorMetric::relative ? "relative" : metric == ErrorMetric::value_normalised ? "value" : "worst";
}

Aggregated aggregate(const std::vector<ResultRow>& rows) {
    Aggregated out;
    out.set = group_series(rows, {}, DataIn::panels);
    out.metric = choose_metric(out.set.rows);
    out.data = distinct(out.set.rows, data_family);
    std::map<std::tuple<std::size_t, std::size_t, std::size_t>, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < out.set.rows.size(); ++i) {
        const ResultRow& r = out.set.rows[i];
        const auto data = std::size_t(std::ranges::find(out.data, data_family(r)) - out.data.begin());
        groups[{out.set.series_of[i], data, r.n}].push_back(i);
    }
    for (const auto& [key, members] : groups) {
        AggregatePoint p{.series = std::get<0>(key), .data = std::get<1>(key), .n = std::get<2>(key)};
        std::vector<double> bytes, times, errors;
        p.step_ms_low = p.error_low = 1e300;
        for (std::size_t i : members) {
            const ResultRow& r = out.set.rows[i];
            p.d = r.d, p.heads = r.heads;
            bytes.push_back(r.bytes);
            times.push_back(r.step_ms_median);
            errors.push_back(error_of(r, out.metric));
            // Rows without the interval columns: their median is the interval.
            const bool interval = r.step_ms_median_ci_high > 0;
            p.step_ms_low = std::min(p.step_ms_low, interval ? r.step_ms_median_ci_low : r.step_ms_median);
            p.step_ms_high = std::max(p.step_ms_high, interval ? r.step_ms_median_ci_high : r.step_ms_median);
            p.error_low = std::min(p.error_low, errors.back());
            p.error_high = std::max(p.error_high, errors.back());
        }
        p.instances = members.size();
        p.bytes = median(bytes), p.step_ms = median(times), p.error = median(errors);
        out.points.push_back(p);
    }
    return out;
}

std::vector<bool> lower_left_front(const std::vector<AggregatePoint>& points, const std::vector<std::size_t>& indices,
                                   double AggregatePoint::*x, double AggregatePoint::*y) {
    std::vector<bool> front;
    for (std::size_t a : indices)
        front.push_back(std::none_of(indices.begin(), indices.end(), [&](std::size_t b) {
            const AggregatePoint &p = points[a], &q = points[b];
            return q.*x <= p.*x && q.*y <= p.*y && (q.*x < p.*x || q.*y < p.*y);
        }));
    return front;
}

std::vector<std::size_t> spread_pick(const std::vector<std::size_t>& sorted, std::size_t most) {
    if (sorted.size() <= most || most < 2) return {sorted.begin(), sorted.begin() + std::ptrdiff_t(std::min(most, sorted.size()))};
    std::vector<std::size_t> picked;
    for (std::size_t i = 0; i < most; ++i) picked.push_back(sorted[i * (sorted.size() - 1) / (most - 1)]);
    return picked;
}

}  // namespace trikv
