// The algebra behind the caches (docs/math.md §2–§3), checked numerically in float64 with xtensor and
// xtensor-blas, independently of the kernels: the reassociated score and output formulas, the
// matrix form with the column-wise Kronecker product, and "product cache = matrix attention over
// pair rows".
#include <catch2/catch.hpp>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <vector>

#include "attention/reference.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

// Identities evaluated two ways in double agree to rounding: both sides are sums of O(n²d)
// terms of size O(1), so differences are a few hundred ε_double at most (measured ≤ 2.9e-15).
constexpr double kIdentityTolerance = 1e-12;

// The column-wise Kronecker product A ⊘ B (docs/math.md §1): row i·n + j is A[i] ∘ B[j].
Matrix<double> column_kronecker(const Matrix<double>& a, const Matrix<double>& b) {
    const std::size_t n = a.shape(0), d = a.shape(1);
    Matrix<double> out = Matrix<double>::from_shape({n * b.shape(0), d});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < b.shape(0); ++j)
            for (std::size_t l = 0; l < d; ++l) out(i * b.shape(0) + j, l) = a(i, l) * b(j, l);
    return out;
}

}  // namespace

TEST_CASE("identity: S = scale·(K1∘q)·K2ᵀ equals the trilinear score loops", "[identities]") {
    const std::size_t n = 37, d = 9;
    const double scale = 0.3;
    Rng rng(1);
    const Matrix<double> k1 = random_matrix<double>(rng, n, d), k2 = random_matrix<double>(rng, n, d);
    const Vector<double> q = row_of(random_matrix<double>(rng, 1, d), 0);

    // (K1 ∘ q): q broadcast over the rows of K1; one GEMM gives every score.
    const Matrix<double> k1q = k1 * xt::view(q, xt::newaxis(), xt::all());
    const Matrix<double> s = scale * xt::linalg::dot(k1q, xt::transpose(k2));
    REQUIRE(s.shape(0) == n);
    REQUIRE(s.shape(1) == n);

    Matrix<double> loops = xt::zeros<double>({n, n});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            for (std::size_t l = 0; l < d; ++l) loops(i, j) += q(l) * k1(i, l) * k2(j, l);
            loops(i, j) *= scale;
        }
    const double error = relative_l2(s, loops);
    report_error("identity scores", error, kIdentityTolerance);
    CHECK(error <= kIdentityTolerance);
}

TEST_CASE("identity: rowsum((P·V2)∘V1) equals Σ p_ij (v1_i∘v2_j) and the reference", "[identities]") {
    const std::size_t n = 41, d = 7;
    const double scale = 0.5;
    Rng rng(2);
    const TensorInputs<double> in = random_tensor_inputs<double>(rng, n, d);
    const Vector<double> q = row_of(in.q, 0);

    // P: the joint softmax over the n×n square of pair scores.
    const Matrix<double> k1q = in.k1 * xt::view(q, xt::newaxis(), xt::all());
    const Matrix<double> s = scale * xt::linalg::dot(k1q, xt::transpose(in.k2));
    const Matrix<double> e = xt::exp(s - xt::amax(s)());
    const Matrix<double> p = e / xt::sum(e)();

    // Reassociated (docs/math.md §3): two GEMM-shaped products, then a column sum over rows i.
    const Matrix<double> mixed = xt::linalg::dot(p, in.v2) * in.v1;  // row i: v1_i ∘ Σ_j p_ij v2_j
    const Vector<double> reassociated = xt::sum(mixed, {0});

    // Directly from the definition (docs/math.md §2).
    Vector<double> direct = xt::zeros<double>({d});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t l = 0; l < d; ++l) direct(l) += p(i, j) * in.v1(i, l) * in.v2(j, l);

    const double error = relative_l2(reassociated, direct);
    report_error("identity rowsum", error, kIdentityTolerance);
    CHECK(error <= kIdentityTolerance);

    const Vector<double> reference_out = reference::tensor_decode(q, in.k1, in.k2, in.v1, in.v2, n, scale);
    const double reference_error = relative_l2(reassociated, reference_out);
    report_error("identity rowsum vs reference", reference_error, kIdentityTolerance);
    CHECK(reference_error <= kIdentityTolerance);
}

TEST_CASE("identity: non-causal matrix form D⁻¹·A·(V1⊘V2) equals tensor_prefill", "[identities]") {
    // docs/math.md §2: A = exp(scale·Q·(K1⊘K2)ᵀ) is n × n², D = diag(A·1), Att = D⁻¹·A·(V1⊘V2).
    // Scores here are O(1), so exp without a max shift is safe.
    const std::size_t n = 23, d = 6;
    const double scale = default_tensor_scale(d);
    Rng rng(3);
    const TensorInputs<double> in = random_tensor_inputs<double>(rng, n, d);

    const Matrix<double> pair_keys = column_kronecker(in.k1, in.k2);    // n² × d
    const Matrix<double> pair_values = column_kronecker(in.v1, in.v2);  // n² × d
    const Matrix<double> a = xt::exp(scale * xt::linalg::dot(in.q, xt::transpose(pair_keys)));  // n × n²
    REQUIRE(a.shape(1) == n * n);
    const Vector<double> row_sums = xt::sum(a, {1});  // the diagonal of D
    const Matrix<double> att =
        xt::linalg::dot(a, pair_values) / xt::view(row_sums, xt::all(), xt::newaxis());

    const Matrix<double> engine = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, /*causal=*/false, scale);
    const double error = relative_l2(engine, att);
    report_error("identity matrix form vs engine", error, kIdentityTolerance);
    CHECK(error <= kIdentityTolerance);

    const Matrix<double> reference_out = reference::tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, false, scale);
    const double reference_error = relative_l2(reference_out, att);
    report_error("identity matrix form vs reference", reference_error, kIdentityTolerance);
    CHECK(reference_error <= kIdentityTolerance);
}

TEST_CASE("identity: the product cache is matrix attention over explicitly formed pair rows", "[identities]") {
    // After t+1 tokens the product cache attends over the square [0,t]² of pair rows
    // k1_i∘k2_j / v1_i∘v2_j. reference::matrix_decode over those rows, formed here
    // explicitly in double, must give the same output at every step. The cache computes in
    // float32: tolerance 1e-5 (see test_tensor_attention.cpp; worst step measured 7.3e-7).
    constexpr double kFloatTolerance = 1e-5;
    const std::size_t h = 2, n = 30, d = 8;
    const double scale = 0.4;
    Rng rng(4);
    const Heads<float> q = random_heads<float>(rng, h, n, d), k1 = random_heads<float>(rng, h, n, d),
                       k2 = random_heads<float>(rng, h, n, d), v1 = random_heads<float>(rng, h, n, d),
                       v2 = random_heads<float>(rng, h, n, d);
    const std::unique_ptr<Cache> cache = make_cache("product", {h, d, scale});

    // Token t of every head as one [h, d] row block, the layout Cache::append takes.
    auto token = [&](const Heads<float>& x, std::size_t t) {
        std::vector<float> rows(h * d);
        for (std::size_t head = 0; head < h; ++head)
            for (std::size_t l = 0; l < d; ++l) rows[head * d + l] = x(head, t, l);
        return rows;
    };
    double worst = 0;
    for (std::size_t t = 0; t < n; ++t) {
        cache->append(1, token(k1, t).data(), token(k2, t).data(), token(v1, t).data(), token(v2, t).data());
        std::vector<float> out(h * d);
        cache->attend(1, token(q, t).data(), out.data());
        for (std::size_t head = 0; head < h; ++head) {
            const auto prefix = [&](const Heads<float>& x) {
                return Matrix<double>(xt::view(to_double(head_of(x, head)), xt::range(0, t + 1), xt::all()));
            };
            const Matrix<double> pair_keys = column_kronecker(prefix(k1), prefix(k2));
            const Matrix<double> pair_values = column_kronecker(prefix(v1), prefix(v2));
            const Vector<double> query = row_of(to_double(head_of(q, head)), t);
            const Vector<double> want = reference::matrix_decode(query, pair_keys, pair_values, (t + 1) * (t + 1), scale);
            const std::vector<float> got(out.begin() + static_cast<long>(head * d),
                                         out.begin() + static_cast<long>((head + 1) * d));
            const double error = relative_l2(got, want);
            worst = std::max(worst, error);
            INFO("step " << t << " head " << head);
            CHECK(error <= kFloatTolerance);
        }
    }
    report_error("identity product cache vs explicit pair rows (worst step)", worst, kFloatTolerance);
}
