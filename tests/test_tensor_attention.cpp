// The exact tensor-attention engine (attention/tensor_attention.hpp) against the float64
// reference loops (attention/reference.hpp), on shapes chosen to hit every tiling edge:
// n = 1, d = 1, partial row blocks and 256-row tiles (n = 67), several of each (n = 300, 640),
// with both block sizes (pair_block_rows: 64 rows below 2·workers·128 rows, 128 from there),
// chunked row storage, huge scores and all-zero keys.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "attention/reference.hpp"
#include "attention/tensor_attention.hpp"
#include "framework/error.hpp"
#include "framework/isa.hpp"
#include "framework/memory.hpp"
#include "framework/threads.hpp"
#include "support.hpp"

using namespace trikv;
using namespace trikv::test;

namespace {

// Tolerances (relative L2 error of the whole output against the float64 reference, docs/math.md §8).
//
// float: measured worst case over the cases below is 1.0e-6 (one decode of 129 rows, d = 6;
// typical 1e-7–5e-7; print them with TRIKV_REPORT_ERRORS=1). Each output is a convex
// combination of up to n² products, computed with float GEMMs of length d and 256, a
// polynomial exp (rel. error < 2e-7) and an online softmax that rescales partial sums, so the
// error is a few float epsilons (1.2e-7) amplified by cancellation in Σ p_ij·(v1_i∘v2_j),
// whose terms have mixed signs. 1e-5 leaves a 10x margin over the worst measurement, while a
// wrong, missing or double-counted pair moves the output by O(1/n²) ≥ 1e-5 for every n here.
constexpr double kFloatTolerance = 1e-5;
// double: measured worst 2.2e-14 (n = 300, non-causal); 1e-12 is ~4500 double epsilons
// (2.2e-16): a 45x margin, and still 7 orders of magnitude below any indexing bug.
constexpr double kDoubleTolerance = 1e-12;

template <Scalar T>
constexpr double tolerance() {
    return std::is_same_v<T, float> ? kFloatTolerance : kDoubleTolerance;
}

template <Scalar T>
std::string type_name() {
    return std::is_same_v<T, float> ? "float" : "double";
}

template <class T>
StoredRows<T> contiguous(const Matrix<T>& m, std::size_t rows) {
    return StoredRows<T>::contiguous(m.data(), rows, m.shape(1));
}

// One head, [n, d]: every query row of tensor_prefill against reference::tensor_prefill,
// or, for big non-causal cases, against reference::tensor_decode at `rows_to_check`.
template <Scalar T>
void check_prefill_matrix(std::size_t n, std::size_t d, bool causal, double scale, std::uint64_t seed,
                          const std::vector<std::size_t>& rows_to_check = {}) {
    Rng rng(seed);
    const TensorInputs<T> in = random_tensor_inputs<T>(rng, n, d);
    const Matrix<T> got = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, causal, static_cast<T>(scale));
    REQUIRE(got.shape(0) == n);
    REQUIRE(got.shape(1) == d);
    REQUIRE(all_finite(got));

    const Matrix<double> q = to_double(in.q), k1 = to_double(in.k1), k2 = to_double(in.k2),
                         v1 = to_double(in.v1), v2 = to_double(in.v2);
    const std::string label = "prefill " + type_name<T>() + " n=" + std::to_string(n) + " d=" +
                              std::to_string(d) + (causal ? " causal" : " full") +
                              " scale=" + std::to_string(scale);
    INFO(label);
    if (rows_to_check.empty()) {
        const Matrix<double> want = reference::tensor_prefill(q, k1, k2, v1, v2, causal, scale);
        const double error = relative_l2(got, want);
        report_error(label, error, tolerance<T>());
        CHECK(error <= tolerance<T>());
        return;
    }
    for (std::size_t t : rows_to_check) {
        const Vector<double> want = reference::tensor_decode(row_of(q, t), k1, k2, v1, v2, causal ? t + 1 : n, scale);
        const Vector<T> got_row = row_of(got, t);
        const double error = relative_l2(got_row, want);
        report_error(label + " row " + std::to_string(t), error, tolerance<T>());
        INFO("row " << t);
        CHECK(error <= tolerance<T>());
    }
}

struct PrefillShape {
    std::size_t n, d;
};

// n = 1 and d = 1 degenerate cases; 128/129 sit on either side of a row block (64 and 128 rows); 67×13 leaves a
// partial block and a partial 256-row tile.
const PrefillShape kShapes[] = {{1, 1}, {1, 8}, {2, 1}, {7, 1}, {3, 5}, {128, 4}, {129, 4}, {67, 13}};

template <Scalar T>
void check_all_shapes() {
    std::uint64_t seed = 100;
    for (const PrefillShape& s : kShapes)
        for (bool causal : {true, false})
            // Default 1/d (near-uniform softmax) and 1 (peaked: scores of size √d).
            for (double scale : {default_tensor_scale(s.d), 1.0}) check_prefill_matrix<T>(s.n, s.d, causal, scale, ++seed);
}

}  // namespace

TEST_CASE("tensor_prefill [n,d] float matches the float64 reference on edge shapes", "[tensor]") {
    check_all_shapes<float>();
}

TEST_CASE("tensor_prefill [n,d] double matches the float64 reference on edge shapes", "[tensor]") {
    check_all_shapes<double>();
}

TEST_CASE("tensor_prefill crosses the 256-row tile and the row block boundaries (n=300)", "[tensor]") {
    // Causal: every row (queries t < 64, < 128, < 256 and beyond use 1, 2, 3–4 and 5 blocks of
    // 64 rows with two workers, and 1, 1, 2 and 3 blocks of 128 rows with one; 1 and 2 tiles).
    check_prefill_matrix<float>(300, 5, true, 0.5, 11);
    check_prefill_matrix<double>(300, 5, true, 0.5, 12);
    {
        const ThreadControl one_worker(1);  // 300 ≥ 2·1·128 rows: 128-row blocks
        check_prefill_matrix<float>(300, 5, true, 0.5, 15);
    }
    // Non-causal: every query sees all 300² pairs; checking some rows keeps the reference cheap.
    const std::vector<std::size_t> rows = {0, 1, 127, 128, 255, 256, 299};
    check_prefill_matrix<float>(300, 13, false, default_tensor_scale(13), 13, rows);
    check_prefill_matrix<double>(300, 13, false, default_tensor_scale(13), 14, rows);
}

TEMPLATE_TEST_CASE("tensor_prefill [h,n,d] matches the reference head by head", "[tensor]", float, double) {
    const std::size_t h = 3, n = 67, d = 13;
    for (bool causal : {true, false}) {
        Rng rng(causal ? 21 : 22);
        const Heads<TestType> q = random_heads<TestType>(rng, h, n, d), k1 = random_heads<TestType>(rng, h, n, d),
                              k2 = random_heads<TestType>(rng, h, n, d), v1 = random_heads<TestType>(rng, h, n, d),
                              v2 = random_heads<TestType>(rng, h, n, d);
        const double scale = 0.3;
        const Heads<TestType> got = tensor_prefill(q, k1, k2, v1, v2, causal, static_cast<TestType>(scale));
        REQUIRE(got.shape() == q.shape());
        for (std::size_t head = 0; head < h; ++head) {
            const Matrix<double> want = reference::tensor_prefill(
                to_double(head_of(q, head)), to_double(head_of(k1, head)), to_double(head_of(k2, head)),
                to_double(head_of(v1, head)), to_double(head_of(v2, head)), causal, scale);
            const double error = relative_l2(head_of(got, head), want);
            report_error("prefill heads " + type_name<TestType>() + " head " + std::to_string(head), error,
                         tolerance<TestType>());
            INFO("head " << head << (causal ? " causal" : " full"));
            CHECK(error <= tolerance<TestType>());
        }
    }
}

TEMPLATE_TEST_CASE("tensor_decode on contiguous views matches reference::tensor_decode", "[tensor]", float, double) {
    for (std::size_t rows : {1, 2, 127, 128, 129, 257, 640, 651}) {  // 640+: 128-row blocks on ≤ 2 workers
        Rng rng(30 + rows);
        const std::size_t d = 6;
        const TensorInputs<TestType> in = random_tensor_inputs<TestType>(rng, rows, d);
        const Vector<TestType> q = row_of(in.q, rows - 1);
        std::vector<TestType> out(d);
        MemoryMeter scratch;
        tensor_decode(1, q.data(), contiguous(in.k1, rows), contiguous(in.k2, rows), contiguous(in.v1, rows),
                      contiguous(in.v2, rows), TestType(0.7), out.data(), scratch);
        const Vector<double> want = reference::tensor_decode(to_double(q), to_double(in.k1), to_double(in.k2),
                                                             to_double(in.v1), to_double(in.v2), rows, 0.7);
        const double error = relative_l2(out, want);
        report_error("decode " + type_name<TestType>() + " rows=" + std::to_string(rows), error, tolerance<TestType>());
        INFO("rows " << rows);
        CHECK(error <= tolerance<TestType>());
        CHECK(scratch.current() == 0);  // every scratch buffer is returned
    }
}

TEMPLATE_TEST_CASE("every score variant on every level matches reference::tensor_decode", "[tensor][isa]", float,
                   double) {
    // The variant is a template parameter of the pair-block reducer and the tile path another,
    // both chosen once per call: each level this CPU runs (IsaOverride) and each variant, on a
    // group of 3 queries over a rectangle of pairs that crosses a 256-row tile and a row block.
    const std::size_t r1 = 131, r2 = 300, d = 7, queries = 3;
    Rng rng(41);
    const Matrix<TestType> k1 = random_matrix<TestType>(rng, r1, d), v1 = random_matrix<TestType>(rng, r1, d);
    const Matrix<TestType> k2 = random_matrix<TestType>(rng, r2, d), v2 = random_matrix<TestType>(rng, r2, d);
    const Matrix<TestType> q = random_matrix<TestType>(rng, queries, d);
    const double scale = 1.0 / std::sqrt(double(d));
    for (const ScoreVariant variant : {ScoreVariant::trilinear, ScoreVariant::rank1, ScoreVariant::strassen})
        for (const Isa isa : runnable_isas()) {
            const IsaOverride forced(isa);
            std::vector<TestType> out(queries * d);
            MemoryMeter scratch;
            tensor_decode(queries, q.data(), contiguous(k1, r1), contiguous(k2, r2), contiguous(v1, r1),
                          contiguous(v2, r2), TestType(scale), out.data(), scratch, variant);
            CHECK(scratch.current() == 0);
            double worst = 0;
            for (std::size_t r = 0; r < queries; ++r) {
                const Vector<double> want = reference::tensor_decode(row_of(to_double(q), r), to_double(k1),
                                                                     to_double(k2), to_double(v1), to_double(v2), r1,
                                                                     r2, scale, variant);
                const std::vector<TestType> got(out.begin() + r * d, out.begin() + (r + 1) * d);
                worst = std::max(worst, relative_l2(got, want));
            }
            report_error("variant " + variant_name(variant) + " " + isa_name(isa) + " " + type_name<TestType>(), worst,
                         tolerance<TestType>());
            INFO(variant_name(variant) << " at " << isa_name(isa));
            CHECK(worst <= tolerance<TestType>());
        }
}

TEST_CASE("tensor_decode over a rectangle of pairs equals matrix attention over explicit pair rows", "[tensor]") {
    // The kernel allows rows(K1) ≠ rows(K2) (windowed attention needs it). The float64 matrix
    // reference over the explicitly formed rows k1_i∘k2_j, v1_i∘v2_j is the same attention.
    const std::size_t r1 = 70, r2 = 300, d = 5;
    Rng rng(40);
    const Matrix<double> k1 = random_matrix<double>(rng, r1, d), v1 = random_matrix<double>(rng, r1, d);
    const Matrix<double> k2 = random_matrix<double>(rng, r2, d), v2 = random_matrix<double>(rng, r2, d);
    const Vector<double> q = row_of(random_matrix<double>(rng, 1, d), 0);
    Matrix<double> pair_k = Matrix<double>::from_shape({r1 * r2, d}), pair_v = Matrix<double>::from_shape({r1 * r2, d});
    for (std::size_t i = 0; i < r1; ++i)
        for (std::size_t j = 0; j < r2; ++j)
            for (std::size_t l = 0; l < d; ++l) {
                pair_k(i * r2 + j, l) = k1(i, l) * k2(j, l);
                pair_v(i * r2 + j, l) = v1(i, l) * v2(j, l);
            }
    const Vector<double> want = reference::matrix_decode(q, pair_k, pair_v, r1 * r2, 0.9);
    std::vector<double> out(d);
    MemoryMeter scratch;
    tensor_decode(1, q.data(), contiguous(k1, r1), contiguous(k2, r2), contiguous(v1, r1), contiguous(v2, r2), 0.9,
                  out.data(), scratch);
    const double error = relative_l2(out, want);
    report_error("decode double rectangle 70x300", error, kDoubleTolerance);
    CHECK(error <= kDoubleTolerance);
}

namespace {

// Rows of `m` copied into separately allocated chunks of `chunk_rows` rows (the last partial),
// the layout RowStore hands to kernels.
template <class T>
struct Chunked {
    std::vector<std::vector<T>> storage;
    std::vector<const T*> pointers;
    StoredRows<T> stored;

    Chunked(const Matrix<T>& m, std::size_t chunk_rows) {
        const std::size_t n = m.shape(0), d = m.shape(1);
        for (std::size_t start = 0; start < n; start += chunk_rows) {
            storage.emplace_back(chunk_rows * d, T(-1e30));  // poison the unused tail
            const std::size_t rows = std::min(chunk_rows, n - start);
            std::copy_n(m.data() + start * d, rows * d, storage.back().data());
            pointers.push_back(storage.back().data());
        }
        stored = StoredRows<T>::plain(RowsView<T>::chunked(pointers.data(), chunk_rows, n, d));
    }
};

template <Scalar T>
std::vector<T> decode(const T* q, const StoredRows<T>& k1, const StoredRows<T>& k2, const StoredRows<T>& v1,
                      const StoredRows<T>& v2, T scale) {
    std::vector<T> out(k1.dim());
    MemoryMeter scratch;
    tensor_decode(1, q, k1, k2, v1, v2, scale, out.data(), scratch);
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("tensor_decode over chunked rows equals contiguous rows", "[tensor]", float, double) {
    const std::size_t d = 7;
    const TestType scale = TestType(0.4);
    // 512 rows = two full 256-row chunks; 500 leaves the second chunk partial.
    for (std::size_t n : {512, 500}) {
        Rng rng(50 + n);
        const TensorInputs<TestType> in = random_tensor_inputs<TestType>(rng, n, d);
        const TestType* q = in.q.data();
        INFO("n " << n);
        {
            // chunk_rows = 256 is a multiple of the kernel's tile, so the GEMM tiles are the same
            // as for contiguous storage. With one thread the reduction order is fixed too, so the
            // two layouts must give bit-identical results.
            ThreadControl one_thread(1);
            const Chunked<TestType> k1(in.k1, 256), k2(in.k2, 256), v1(in.v1, 256), v2(in.v2, 256);
            const std::vector<TestType> chunked = decode(q, k1.stored, k2.stored, v1.stored, v2.stored, scale);
            const std::vector<TestType> flat =
                decode(q, contiguous(in.k1, n), contiguous(in.k2, n), contiguous(in.v1, n), contiguous(in.v2, n), scale);
            CHECK(chunked == flat);
        }
        // Chunks that are not a multiple of the tile change the tiling (and threads the
        // reduction order): still the same attention within the usual tolerance.
        for (std::size_t chunk_rows : {256, 100, 1}) {
            const Chunked<TestType> k1(in.k1, chunk_rows), k2(in.k2, chunk_rows), v1(in.v1, chunk_rows),
                v2(in.v2, chunk_rows);
            const std::vector<TestType> got = decode(q, k1.stored, k2.stored, v1.stored, v2.stored, scale);
            const Vector<double> want = reference::tensor_decode(row_of(to_double(in.q), 0), to_double(in.k1),
                                                                 to_double(in.k2), to_double(in.v1),
                                                                 to_double(in.v2), n, scale);
            const double error = relative_l2(got, want);
            report_error("decode chunked " + type_name<TestType>() + " n=" + std::to_string(n) +
                             " chunk=" + std::to_string(chunk_rows),
                         error, tolerance<TestType>());
            INFO("chunk_rows " << chunk_rows);
            CHECK(error <= tolerance<TestType>());
        }
    }
}

TEMPLATE_TEST_CASE("tensor_decode of several queries: each matches reference::tensor_decode", "[tensor]", float,
                   double) {
    // Query counts around the group of 2 (1, 3, 4, 5, 9) and rows around the row blocks and
    // 256-row tile, on chunked storage whose chunks do not align with either.
    const std::size_t d = 6;
    const TestType scale = TestType(0.6);
    for (std::size_t rows : {1, 129, 300})
        for (std::size_t queries : {1, 3, 4, 5, 9}) {
            Rng rng(70 + rows + queries);
            const TensorInputs<TestType> in = random_tensor_inputs<TestType>(rng, rows, d);
            const Matrix<TestType> q = random_matrix<TestType>(rng, queries, d);
            const Chunked<TestType> k1(in.k1, 100), k2(in.k2, 100), v1(in.v1, 100), v2(in.v2, 100);
            std::vector<TestType> out(queries * d);
            MemoryMeter scratch;
            tensor_decode(queries, q.data(), k1.stored, k2.stored, v1.stored, v2.stored, scale, out.data(), scratch);
            CHECK(scratch.current() == 0);
            for (std::size_t r = 0; r < queries; ++r) {
                const Vector<double> want = reference::tensor_decode(row_of(to_double(q), r), to_double(in.k1),
                                                                     to_double(in.k2), to_double(in.v1),
                                                                     to_double(in.v2), rows, scale);
                const std::vector<TestType> got(out.begin() + r * d, out.begin() + (r + 1) * d);
                const double error = relative_l2(got, want);
                report_error("decode queries " + type_name<TestType>() + " rows=" + std::to_string(rows) +
                                 " queries=" + std::to_string(queries),
                             error, tolerance<TestType>());
                INFO("rows " << rows << ", queries " << queries << ", query " << r);
                CHECK(error <= tolerance<TestType>());
            }
        }
}

namespace {

// Scores as large as ±1e4: the scale is set so that the largest |s_ij| over all queries and
// pairs is exactly 1e4. A kernel without a running max overflows exp here.
constexpr double kHugeScore = 1e4;

double scale_for_huge_scores(const TensorInputs<double>& in) {
    double largest = 0;
    const std::size_t n = in.q.shape(0), d = in.q.shape(1);
    for (std::size_t t = 0; t < n; ++t)
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                double s = 0;
                for (std::size_t l = 0; l < d; ++l) s += in.q(t, l) * in.k1(i, l) * in.k2(j, l);
                largest = std::max(largest, std::abs(s));
            }
    return kHugeScore / largest;
}

}  // namespace

TEST_CASE("tensor_prefill stays finite and accurate with scores of magnitude 1e4", "[tensor]") {
    const std::size_t n = 40, d = 8;
    Rng rng(60);
    const TensorInputs<double> in = random_tensor_inputs<double>(rng, n, d, /*sigma=*/100.0);
    const double scale = scale_for_huge_scores(in);
    const Matrix<double> want = reference::tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, true, scale);
    REQUIRE(all_finite(want));

    SECTION("double") {
        // An absolute score error δ becomes a relative weight error δ, and the score's own
        // rounding is |s|·ε_double ≈ 1e4 · 2.2e-16 ≈ 2e-12 (exp's condition number is |s|).
        // Measured 1.2e-14; bound: 10·|s|·ε ≈ 2.2e-11.
        const double tolerance = 10 * kHugeScore * DBL_EPSILON;
        const Matrix<double> got = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, true, scale);
        REQUIRE(all_finite(got));
        const double error = relative_l2(got, want);
        report_error("prefill double |s|<=1e4", error, tolerance);
        CHECK(error <= tolerance);
    }
    SECTION("float") {
        // Same argument in float: a score of size 1e4 carries a rounding error of order
        // |s|·ε_float ≈ 1e4 · 1.2e-7 ≈ 1.2e-3, which exp turns into a relative weight error of
        // that size. Tolerance 10·|s|·ε_float ≈ 1.2e-2. (Measured far smaller, 4.9e-7: with gaps
        // of order 100 between the top scores one pair takes all the weight, so weight errors
        // barely reach the output; the bound holds whatever the gaps.)
        const double tolerance = 10 * kHugeScore * FLT_EPSILON;
        const Matrix<float> q = xt::cast<float>(in.q), k1 = xt::cast<float>(in.k1), k2 = xt::cast<float>(in.k2),
                            v1 = xt::cast<float>(in.v1), v2 = xt::cast<float>(in.v2);
        const Matrix<float> got = tensor_prefill(q, k1, k2, v1, v2, true, static_cast<float>(scale));
        REQUIRE(all_finite(got));
        // The float inputs are rounded copies; the reference of those exact values is the target.
        const Matrix<double> want_f = reference::tensor_prefill(to_double(q), to_double(k1), to_double(k2),
                                                                to_double(v1), to_double(v2), true, scale);
        const double error = relative_l2(got, want_f);
        report_error("prefill float |s|<=1e4", error, tolerance);
        CHECK(error <= tolerance);
    }
}

TEMPLATE_TEST_CASE("all-zero keys give a uniform softmax: output is mean(v1) ∘ mean(v2)", "[tensor]", float, double) {
    // With k1 = 0 every score is 0, so p_ij = 1/(t+1)² and
    // o_t = Σ_ij (v1_i ∘ v2_j)/(t+1)² = mean_{i≤t}(v1_i) ∘ mean_{j≤t}(v2_j): no reference needed.
    const std::size_t n = 70, d = 9;
    Rng rng(70);
    TensorInputs<TestType> in = random_tensor_inputs<TestType>(rng, n, d);
    in.k1.fill(TestType(0));
    const Matrix<TestType> got = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, true, TestType(1));
    Matrix<double> want = xt::zeros<double>({n, d});
    std::vector<double> sum1(d, 0.0), sum2(d, 0.0);
    for (std::size_t t = 0; t < n; ++t)
        for (std::size_t l = 0; l < d; ++l) {
            sum1[l] += in.v1(t, l);
            sum2[l] += in.v2(t, l);
            const double count = static_cast<double>(t + 1);
            want(t, l) = (sum1[l] / count) * (sum2[l] / count);
        }
    const double error = relative_l2(got, want);
    report_error("zero keys " + type_name<TestType>(), error, tolerance<TestType>());
    CHECK(error <= tolerance<TestType>());
}

TEMPLATE_TEST_CASE("one token: the output is v1_0 ∘ v2_0 whatever the query and scale", "[tensor]", float, double) {
    Rng rng(80);
    const std::size_t d = 11;
    const TensorInputs<TestType> in = random_tensor_inputs<TestType>(rng, 1, d, 10.0);
    const Matrix<TestType> got = tensor_prefill(in.q, in.k1, in.k2, in.v1, in.v2, true, TestType(3));
    for (std::size_t l = 0; l < d; ++l) {
        // p = 1 exactly (exp(0)/exp(0)), so only the product's own rounding remains.
        CHECK(got(0, l) == Approx(in.v1(0, l) * in.v2(0, l)).epsilon(4 * std::numeric_limits<TestType>::epsilon()));
    }
}

TEST_CASE("tensor attention rejects inconsistent inputs with trikv::Error", "[tensor]") {
    Rng rng(90);
    const TensorInputs<float> in = random_tensor_inputs<float>(rng, 4, 3);
    const Matrix<float> short_k2 = random_matrix<float>(rng, 3, 3);
    CHECK_THROWS_AS(tensor_prefill(in.q, in.k1, short_k2, in.v1, in.v2, true, 1.0f), Error);

    std::vector<float> out(3);
    MemoryMeter scratch;
    const StoredRows<float> none = StoredRows<float>::contiguous(in.k1.data(), 0, 3);
    CHECK_THROWS_AS(tensor_decode(1, in.q.data(), none, none, none, none, 1.0f, out.data(), scratch), Error);
    CHECK_THROWS_AS(tensor_decode(1, in.q.data(), contiguous(in.k1, 4), contiguous(in.k2, 4), contiguous(in.v1, 3),
                                  contiguous(in.v2, 4), 1.0f, out.data(), scratch),
                    Error);
}

TEMPLATE_TEST_CASE("grouped windowed decode: g queries over w1 x w2 rows match the float64 reference", "[tensor]",
                   float, double) {
    // {queries, w1, w2, d}. The reference's shape (64 query heads sharing one kv head, w1 = 32,
    // w2 = 512) at a small d; odd sizes for every tile tail (stacked rows not a multiple of the
    // 16 lanes, K2 tiles not a multiple of the 6-column strips, d not a multiple of 6); one query
    // over one 32-row block, whose K2 columns split into runs of tiles across the two workers.
    struct Shape {
        std::size_t queries, w1, w2, d;
    };
    const ThreadControl two_workers(2);
    for (const Shape& s : {Shape{64, 32, 512, 8}, Shape{64, 33, 517, 13}, Shape{7, 5, 700, 17}, Shape{1, 32, 1024, 16},
                           Shape{1, 3, 1000, 6}}) {
        Rng rng(500 + s.queries + s.w1 + s.w2 + s.d);
        const Matrix<TestType> k1 = random_matrix<TestType>(rng, s.w1, s.d), v1 = random_matrix<TestType>(rng, s.w1, s.d);
        const Matrix<TestType> k2 = random_matrix<TestType>(rng, s.w2, s.d), v2 = random_matrix<TestType>(rng, s.w2, s.d);
        const Matrix<TestType> q = random_matrix<TestType>(rng, s.queries, s.d);
        const double scale = 1.0 / std::sqrt(double(s.d));
        const Matrix<double> q64 = to_double(q);
        std::vector<Vector<double>> want;
        for (std::size_t r = 0; r < s.queries; ++r)
            want.push_back(reference::tensor_decode(row_of(q64, r), to_double(k1), to_double(k2), to_double(v1),
                                                    to_double(v2), s.w1, s.w2, scale));
        // Float runs the register-tiled kernel where the CPU has it, and the BLAS path too.
        for (const bool blas : {false, std::is_same_v<TestType, float>}) {
            std::optional<IsaOverride> force_blas;  // level portable: the BLAS path
            if (blas) force_blas.emplace(Isa::portable);
            std::vector<TestType> out(s.queries * s.d);
            MemoryMeter scratch;
            tensor_decode(s.queries, q.data(), contiguous(k1, s.w1), contiguous(k2, s.w2), contiguous(v1, s.w1),
                          contiguous(v2, s.w2), TestType(scale), out.data(), scratch);
            CHECK(scratch.current() == 0);
            double worst = 0;
            for (std::size_t r = 0; r < s.queries; ++r) {
                const std::vector<TestType> got(out.begin() + r * s.d, out.begin() + (r + 1) * s.d);
                worst = std::max(worst, relative_l2(got, want[r]));
            }
            report_error("grouped window " + type_name<TestType>() + (blas ? " blas" : "") + " g=" +
                             std::to_string(s.queries) + " w1=" + std::to_string(s.w1) + " w2=" +
                             std::to_string(s.w2) + " d=" + std::to_string(s.d),
                         worst, tolerance<TestType>());
            INFO("queries " << s.queries << ", w1 " << s.w1 << ", w2 " << s.w2 << ", d " << s.d << ", blas " << blas);
            CHECK(worst <= tolerance<TestType>());
        }
    }
}
