#include "studies/measure/statistics.hpp"

#include <algorithm>
#include <cmath>

#include "studies/measure/machine_peaks.hpp"

namespace trikv {

namespace {
constexpr double kIntervalLevel = 0.95;
}

MedianInterval median_interval(std::vector<double> samples) {
    if (samples.empty()) return {};
    std::sort(samples.begin(), samples.end());
    const std::size_t count = samples.size();
    // below[l] = P(B < l) for B ~ Binomial(count, ½), in logs: count may be large.
    auto probability_below = [&](std::size_t rank) {
        double total = 0;
        for (std::size_t i = 0; i < rank; ++i)
            total += std::exp(std::lgamma(double(count) + 1) - std::lgamma(double(i) + 1) -
                              std::lgamma(double(count - i) + 1) - double(count) * std::log(2.0));
        return total;
    };
    std::size_t rank = 1;  // 1-based rank of the lower end
    while (rank + 1 <= (count + 1) / 2 && 1 - 2 * probability_below(rank + 1) >= kIntervalLevel) ++rank;
    return {samples[rank - 1], samples[count - rank], 1 - 2 * probability_below(rank)};
}

Spread spread_of(const std::vector<double>& values) {
    return {median(values), quantile(values, 0.9), *std::max_element(values.begin(), values.end())};
}

}  // namespace trikv
