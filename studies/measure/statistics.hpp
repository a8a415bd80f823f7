#pragma once
// Summaries a study row reports beyond the median: the median's confidence interval and the
// spread of per-position errors (docs/math.md §8).
#include <vector>

namespace trikv {

// The distribution-free interval [x_(l), x_(R+1−l)] of the sorted samples that covers the
// population median with probability `level` = 1 − 2·P(Binomial(R, ½) < l), l the largest rank
// with level ≥ 95%. Below 6 samples no such rank exists: the interval is [min, max] and its level
// (1 − 2^(1−R)) is below 95%. Empty input: all zero.
struct MedianInterval {
    double low = 0, high = 0, level = 0;
};
MedianInterval median_interval(std::vector<double> samples);

// Median, 90th percentile (linear interpolation) and maximum of a non-empty list.
struct Spread {
    double median = 0, p90 = 0, max = 0;
};
Spread spread_of(const std::vector<double>& values);

}  // namespace trikv
