#pragma once
// What a panelled figure draws (pareto, scaling, error): the rows grouped into series whose
// labels leave the data out, a panel per data family (docs/studies.md, Figures), and per
// series, data family and n one point: the median over the instances the figure does not tell
// apart (a trace's layers and heads, seeds) with the range they span.
#include <string>
#include <vector>

#include "studies/figures/series.hpp"

namespace trikv {

// The error the error figures draw (docs/math.md §8): the median over a point's query positions
// of the relative or the value-normalised error; rows written before those columns existed
// have only rel_l2_error (the worst of the timed steps).
enum class ErrorMetric { relative, value_normalised, worst_timed_step };

struct AggregatePoint {
    std::size_t series = 0, data = 0;  // into Aggregated::set.series and ::data
    std::size_t n = 0, d = 0, heads = 0;
    std::size_t instances = 0;         // rows behind the point
    double bytes = 0;                  // median over the instances
    double step_ms = 0;                // median of the instances' medians
    double step_ms_low = 0, step_ms_high = 0;  // the instances' 95% intervals of the median, joined
    double error = 0, error_low = 0, error_high = 0;  // median, min and max over the instances
};

struct Aggregated {
    SeriesSet set;                       // data not in the labels
    std::vector<std::string> data;       // data families (data_family), in order of appearance
    std::vector<AggregatePoint> points;  // by series, data, n
    ErrorMetric metric = ErrorMetric::relative;
};

// The relative error when every output is large against its values; the value-normalised one
// when some output is kSmallOutputRatio times smaller (‖o*‖ → 0 makes relative errors blow up).
inline constexpr double kSmallOutputRatio = 3;

Aggregated aggregate(const std::vector<ResultRow>& rows);

// "relative", "value" or "worst": how the error templates name the metric (ERROR_METRIC).
std::string metric_name(ErrorMetric metric);

// Per point of `indices` (into points): whether no other of them is at most as large in both
// `x` and `y` and smaller in one: the lower-left front.
std::vector<bool> lower_left_front(const std::vector<AggregatePoint>& points, const std::vector<std::size_t>& indices,
                                   double AggregatePoint::*x, double AggregatePoint::*y);

// At most `most` of the sorted distinct values, the smallest and largest among them: the n a
// figure draws a panel row for.
std::vector<std::size_t> spread_pick(const std::vector<std::size_t>& sorted, std::size_t most);

}  // namespace trikv
