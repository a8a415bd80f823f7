// A point's accuracy over many query positions (docs/math.md §8), the median's interval over
// the timed steps (studies/measure/statistics.hpp), and seeds as points of their own.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "framework/error.hpp"
#include "studies/measure/measure.hpp"
#include "studies/measure/statistics.hpp"
#include "studies/spec/study_spec.hpp"
#include "studies/measure/token_data.hpp"

using Catch::Matchers::Contains;

TEST_CASE("the median's interval is the binomial order-statistic interval", "[accuracy]") {
    // 20 samples: ranks 6 and 15 cover the median with probability 1 − 2·P(B(20, ½) ≤ 5) = 0.9586.
    std::vector<double> twenty;
    for (int i = 20; i >= 1; --i) twenty.push_back(double(i));
    const trikv::MedianInterval wide = trikv::median_interval(twenty);
    CHECK(wide.low == 6);
    CHECK(wide.high == 15);
    CHECK(wide.level == Approx(0.958611).epsilon(1e-5));
    // Below 6 samples the whole range covers less than 95%: 1 − 2/2⁵.
    const trikv::MedianInterval few = trikv::median_interval({3, 1, 2, 5, 4});
    CHECK((few.low == 1 && few.high == 5));
    CHECK(few.level == Approx(0.9375));
    CHECK(trikv::median_interval({}).level == 0);
}

TEST_CASE("accuracy is measured at positions spread over the sequence, with the value-normalised error",
          "[accuracy]") {
    // window:w1=1,w2=1 attends only the pair (t, t): its output is v1_t ∘ v2_t, so the error at
    // every position is known in closed form against the full causal square.
    const std::size_t n = 40, d = 4, positions = 8;
    trikv::StudyPoint point = trikv::point_for(
        "window:w1=1,w2=1", {.n = n, .d = d, .heads = 1, .seed = 5, .warmup = 0, .repetitions = 2});
    point.accuracy_positions = positions;
    point.data.v2_mean = 0.5;  // a value bias, as a model's: outputs away from 0
    const std::vector<trikv::ResultRow> rows = trikv::measure_point(point, {}, 1e12);
    REQUIRE(rows.size() == 1);
    REQUIRE(rows[0].ok());
    CHECK(rows[0].accuracy_positions == positions);

    const trikv::TokenData data = trikv::make_token_data(point.data, 1, n + 2, d, point.seed);
    const double scale = point.resolved_scale();
    auto at = [&](const trikv::Heads<double>& x, std::size_t t, std::size_t l) { return x(0, t, l); };
    std::vector<double> relative, value;
    for (std::size_t k = 1; k <= positions; ++k) {
        const std::size_t t = k * n / positions - 1;
        // Float64 loops over the pairs (i, j) ≤ t: softmax weights, o*, and Σ p ‖v1_i ∘ v2_j‖².
        double top = -1e300, total = 0, attended = 0;
        std::vector<double> exact(d, 0.0);
        std::vector<double> score((t + 1) * (t + 1));
        for (std::size_t i = 0; i <= t; ++i)
            for (std::size_t j = 0; j <= t; ++j) {
                double s = 0;
                for (std::size_t l = 0; l < d; ++l) s += at(data.q, t, l) * at(data.k1, i, l) * at(data.k2, j, l);
                score[i * (t + 1) + j] = s * scale;
                top = std::max(top, s * scale);
            }
        for (std::size_t i = 0; i <= t; ++i)
            for (std::size_t j = 0; j <= t; ++j) {
                const double p = std::exp(score[i * (t + 1) + j] - top);
                total += p;
                for (std::size_t l = 0; l < d; ++l) {
                    const double product = at(data.v1, i, l) * at(data.v2, j, l);
                    exact[l] += p * product;
                    attended += p * product * product;
                }
            }
        double diff2 = 0, ref2 = 0;
        for (std::size_t l = 0; l < d; ++l) {
            exact[l] /= total;
            const double out = double(float(at(data.v1, t, l))) * double(float(at(data.v2, t, l)));
            diff2 += (out - exact[l]) * (out - exact[l]);
            ref2 += exact[l] * exact[l];
        }
        relative.push_back(std::sqrt(diff2 / ref2));
        value.push_back(std::sqrt(diff2 / (attended / total)));
    }
    std::sort(relative.begin(), relative.end());
    std::sort(value.begin(), value.end());
    CHECK(rows[0].rel_error_max == Approx(relative.back()).epsilon(1e-4));
    CHECK(rows[0].value_error_max == Approx(value.back()).epsilon(1e-4));
    CHECK(rows[0].rel_error_median == Approx((relative[3] + relative[4]) / 2).epsilon(1e-4));
    CHECK(rows[0].value_error_median == Approx((value[3] + value[4]) / 2).epsilon(1e-4));
    CHECK(rows[0].rel_error_p90 <= rows[0].rel_error_max);
    // ‖o*‖ ≤ (Σ p ‖v1_i ∘ v2_j‖²)^½: the value-normalised error never exceeds the relative one.
    CHECK(rows[0].value_error_max <= rows[0].rel_error_max);
    CHECK(rows[0].step_ms_median_ci_level == Approx(0.5));  // 2 repetitions: 1 − 2/2²
}

TEST_CASE("seeds repeat a point on independent data, and one seed keeps the keys points had", "[accuracy][study]") {
    const std::string base = "caches = [\"product\"]\nn = [16]\nd = [4]\n";
    const auto one = trikv::expand_study(trikv::parse_study(base + "seed = 7\n", "s.toml"));
    const auto three = trikv::expand_study(trikv::parse_study(base + "seeds = [7, 8, 9]\n", "s.toml"));
    REQUIRE(one.size() == 1);
    REQUIRE(three.size() == 3);
    CHECK(three[0].key() == one[0].key());
    CHECK(three[1].key() != one[0].key());
    CHECK(three[2].seed == 9);
    CHECK_THAT(trikv::to_toml(trikv::parse_study(base + "seeds = [7, 8]\n", "s.toml")), Contains("seeds = [7, 8]"));
    CHECK_THROWS_WITH(trikv::parse_study(base + "seed = 1\nseeds = [2]\n", "s.toml"),
                      "s.toml: give either seed or seeds, not both");
    CHECK_THROWS_WITH(trikv::validate_study(trikv::parse_study(base + "seeds = [2, 2]\n", "s.toml")),
                      Contains("seeds lists 2 twice"));
    // The default number of accuracy positions leaves the key alone; another makes a new point.
    trikv::StudyPoint other = one[0];
    other.accuracy_positions = 16;
    CHECK(other.key() != one[0].key());
    CHECK_THROWS_WITH(trikv::parse_study(base + "accuracy_positions = 0\n", "s.toml"), Contains("accuracy_positions"));
}
