// studies/measure/theory_metrics.cpp: the per-point columns score_bound (B = max|s|) and
// subgen_normalised_error. The spectral norm of the pair values is checked against a float64
// loop over the n² pair rows (d = 2, where the largest eigenvalue has a closed form), and a
// decode point's columns against what they must be: B the same for every cache on the same
// data, and the normalised error at rounding level for an exact cache, not for poly. B and
// the normalised error are also held to float64 loops over the pairs, and older results.csv
// files (without these columns) must still read.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "studies/measure/measure.hpp"
#include "studies/measure/theory_metrics.hpp"
#include "support.hpp"

using namespace trikv;

TEST_CASE("theory metrics: ‖V1⊘V2‖_op equals the spectral norm of the explicit pair rows", "[theory]") {
    Rng rng(900);
    for (std::size_t n : {1, 5, 17}) {
        INFO("n = " << n);
        const std::size_t d = 2;
        std::vector<double> v1(n * d), v2(n * d);
        for (double& x : v1) x = rng.normal();
        for (double& x : v2) x = rng.normal();
        // Gram matrix of the n² rows v1_i ∘ v2_j, formed pair by pair.
        double a = 0, b = 0, c = 0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                const double x = v1[i * d] * v2[j * d], y = v1[i * d + 1] * v2[j * d + 1];
                a += x * x;
                b += x * y;
                c += y * y;
            }
        const double largest = (a + c) / 2 + std::sqrt((a - c) * (a - c) / 4 + b * b);
        CHECK(pair_values_spectral_norm(v1.data(), v2.data(), n, d) == Approx(std::sqrt(largest)).epsilon(1e-9));
    }
}

TEST_CASE("theory metrics: B and the normalised error equal float64 loops over the pairs", "[theory]") {
    // One head, d = 2 (closed-form spectral norm), 9 tokens; the "cache output" is the exact
    // output moved by δ along one coordinate, so the error is δ exactly.
    const std::size_t n = 9, d = 2, query = 8;
    const double scale = 0.7, delta = 1e-3;
    const TokenData data = make_token_data(DataSpec{}, 1, n, d, 5);
    auto at = [&](const Heads<double>& x, std::size_t t, std::size_t l) { return x.data()[t * d + l]; };
    double bound = 0, top = -1e300;
    std::vector<double> scores;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::size_t l = 0; l < d; ++l) s += at(data.q, query, l) * at(data.k1, i, l) * at(data.k2, j, l);
            scores.push_back(scale * s);
            bound = std::max(bound, std::abs(scale * s));
            top = std::max(top, scale * s);
        }
    double sum = 0, sum_squares = 0, a = 0, b = 0, c = 0;
    for (double s : scores) {
        sum += std::exp(s - top);
        sum_squares += std::exp(2 * (s - top));
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            const double x = at(data.v1, i, 0) * at(data.v2, j, 0), y = at(data.v1, i, 1) * at(data.v2, j, 1);
            a += x * x;
            b += x * y;
            c += y * y;
        }
    const double values_norm = std::sqrt((a + c) / 2 + std::sqrt((a - c) * (a - c) / 4 + b * b));
    const double exact[d] = {0.25, -0.5};
    const float out[d] = {float(exact[0] + delta), float(exact[1])};
    ResultRow row;
    record_theory_metrics(row, data, query, n, scale, out, exact);
    CHECK(row.score_bound == Approx(bound).epsilon(1e-12));
    const double error = std::abs(double(out[0]) - exact[0]);  // δ up to the float rounding of out
    CHECK(row.subgen_normalised_error == Approx(error / (std::sqrt(sum_squares) / sum * values_norm)).epsilon(1e-9));
}

TEST_CASE("theory metrics: a decode point records B and the error in SubGen's units", "[theory][study]") {
    auto point = [](const std::string& cache) {
        return point_for(cache, {.n = 12, .d = 8, .heads = 2, .seed = 3, .repetitions = 2});
    };
    const ResultRow exact = measure_point(point("factor:strategy=fused,dtype=f32"), {}, 1e12).at(0);
    const ResultRow poly = measure_point(point("poly:degree=1"), {}, 1e12).at(0);
    REQUIRE(exact.ok());
    REQUIRE(poly.ok());
    CHECK(exact.score_bound > 0);
    CHECK(poly.score_bound == exact.score_bound);  // a property of the data, not of the cache
    CHECK(exact.subgen_normalised_error < 1e-5);
    CHECK(poly.subgen_normalised_error > 1e-3);
}

TEST_CASE("theory metrics: a results.csv written before their columns existed still reads", "[theory][study]") {
    ResultRow row;
    row.cache = "factor";
    row.n = 64;
    row.key = "0000000000000abc";
    // The current schema and a row of it, without the two theory columns.
    std::string header, line;
    std::istringstream fields(to_csv_line(row));
    std::string field;
    for (const std::string& name : result_columns()) {
        std::getline(fields, field, ',');
        if (name == "score_bound" || name == "subgen_normalised_error") continue;
        header += (header.empty() ? "" : ",") + name;
        line += (line.empty() ? "" : ",") + field;
    }
    const std::filesystem::path dir = test::fresh_dir("theory-older-csv");
    std::ofstream(dir / "results.csv") << header << "\n" << line << "\n";
    const std::vector<ResultRow> rows = read_results_csv(dir / "results.csv");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].n == 64);
    CHECK(rows[0].key == "0000000000000abc");
    CHECK(rows[0].score_bound == 0);
    std::filesystem::remove_all(dir);
}
