// The `trikv` command line, run as a separate process (TRIKV_CLI, set by tests/CMakeLists.txt)
// on .npy files written into a fresh temporary directory. `trikv attend` must reproduce the
// float64 reference (causal decode), honour --scale and --cache, and fail every bad input with
// exit status 2, exactly one line on stderr naming the problem, and no output file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace trikv;
using namespace trikv::test;
using namespace trikv::test::cli;

TEST_CASE("cli: attend on float64 input matches the float64 reference", "[cli]") {
    for (const std::vector<std::size_t>& shape : {std::vector<std::size_t>{23, 6}, std::vector<std::size_t>{2, 23, 6}}) {
        TempDir dir;
        const Inputs<double> in = random_inputs<double>(1, shape);
        write_inputs(dir, in);
        const double error = attend_error(dir, in, "", default_tensor_scale(6));
        report_error("cli float64 engine rank " + std::to_string(shape.size()), error, kDoubleTolerance);
        INFO("rank " << shape.size());
        CHECK(error <= kDoubleTolerance);
    }
}

TEST_CASE("cli: attend on float32 input matches the reference within float tolerance", "[cli]") {
    for (const std::vector<std::size_t>& shape : {std::vector<std::size_t>{23, 6}, std::vector<std::size_t>{2, 23, 6}}) {
        TempDir dir;
        const Inputs<float> in = random_inputs<float>(2, shape);
        write_inputs(dir, in);
        const double error = attend_error(dir, in, "", default_tensor_scale(6));
        report_error("cli float32 engine rank " + std::to_string(shape.size()), error, kFloatTolerance);
        INFO("rank " << shape.size());
        CHECK(error <= kFloatTolerance);
    }
}

TEST_CASE("cli: attend --cache decodes through each exact cache", "[cli]") {
    for (const char* spec : {"product", "factor", "factor:strategy=recompute", "reference"}) {
        INFO("--cache " << spec);
        {
            TempDir dir;  // float32 [h, n, d]
            const Inputs<float> in = random_inputs<float>(3, {2, 19, 5});
            write_inputs(dir, in);
            const double error = attend_error(dir, in, std::string("--cache ") + quote(spec), default_tensor_scale(5));
            report_error(std::string("cli --cache ") + spec + " float32", error, kFloatTolerance);
            CHECK(error <= kFloatTolerance);
        }
        {
            TempDir dir;  // float64 [n, d]: computed in float32, written back as float64
            const Inputs<double> in = random_inputs<double>(4, {19, 5});
            write_inputs(dir, in);
            const double error = attend_error(dir, in, std::string("--cache ") + quote(spec), default_tensor_scale(5));
            report_error(std::string("cli --cache ") + spec + " float64", error, kFloatTolerance);
            CHECK(error <= kFloatTolerance);
        }
    }
}

TEST_CASE("cli: attend with grouped heads, a variant and the bias matches docs/math.md §9 in float64", "[cli]") {
    // q [h = 4, n, d], keys and values [h_kv = 2, n, d]: kv_heads comes from the shapes.
    const std::size_t heads = 4, kv = 2, n = 11, d = 6;
    Inputs<float> in = random_inputs<float>(21, {kv, n, d});
    in.q = random_inputs<float>(22, {heads, n, d}).q;
    const auto as_double = [](const xt::xarray<float>& a) {
        Heads<double> out = Heads<double>::from_shape({a.shape(0), a.shape(1), a.shape(2)});
        for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = a.data()[i];
        return out;
    };
    const Heads<double> q = as_double(in.q);
    for (const char* variant : {"trilinear", "rank1", "strassen"})
        for (const char* cache : {"", "factor", "pair-logits", "window:w1=16,w2=16"}) {
            const ScoreVariant v = parse_variant(variant, "variant");
            if (std::string(cache) == "pair-logits" && v != ScoreVariant::strassen) continue;
            INFO("--variant " << variant << " --cache '" << cache << "'");
            TempDir dir;
            write_inputs(dir, in);
            const std::string extra = std::string("--variant ") + variant + " --k2-bias default --v2-bias 0.5" +
                                      (*cache ? std::string(" --cache ") + quote(cache) : "");
            const Result result = run_cli(dir, attend_args(dir, extra));
            INFO("stderr: " << result.err);
            REQUIRE(result.status == 0);
            const NpyArray out = read_npy(dir.out("out.npy"));
            REQUIRE(out.shape == std::vector<std::size_t>{heads, n, d});
            const xt::xarray<double> got = out.to_xarray<double>();
            // Token t: row t of the causal forward, i.e. the decode over tokens 0..t.
            Heads<double> want = Heads<double>::from_shape({heads, n, d});
            for (std::size_t t = 0; t < n; ++t) {
                Matrix<double> qt = Matrix<double>::from_shape({heads, d});
                for (std::size_t h = 0; h < heads; ++h)
                    for (std::size_t l = 0; l < d; ++l) qt(h, l) = q(h, t, l);
                const Matrix<double> o = reference::simplicial_decode(qt, as_double(in.k1), as_double(in.k2),
                                                                      as_double(in.v1), as_double(in.v2), t + 1,
                                                                      default_tensor_scale(d), v, 1.0 / d, 0.5);
                for (std::size_t h = 0; h < heads; ++h)
                    for (std::size_t l = 0; l < d; ++l) want(h, t, l) = o(h, l);
            }
            const double error = relative_l2(got, want);
            report_error(std::string("cli grouped ") + variant + " " + cache, error, kFloatTolerance);
            CHECK(error <= kFloatTolerance);
        }
}

TEST_CASE("cli: attend --scale is honoured", "[cli]") {
    TempDir dir;
    const Inputs<double> in = random_inputs<double>(5, {17, 4});
    write_inputs(dir, in);
    const double scale = 1.7;  // far from the default 1/d = 0.25
    CHECK(attend_error(dir, in, "--scale 1.7", scale) <= kDoubleTolerance);
    // The output really depends on the scale: against the default it is far off.
    CHECK(relative_l2(read_npy(dir.out("out.npy")).to_xarray<double>(), reference_output(in, 0.25)) > 1e-3);
    CHECK(attend_error(dir, in, "--scale 1.7 --cache factor", scale) <= kFloatTolerance);
}


TEST_CASE("cli: attend rejects inputs of different shapes", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    write_npy(dir.in("k1.npy"), make_npy(random_inputs<float>(7, {8, 4}).k1));
    require_one_line_failure(dir, attend_args(dir), "shape");
}

TEST_CASE("cli: attend refuses a kv head count that does not divide q's, an unknown variant and a refused one",
          "[cli][errors]") {
    TempDir dir;
    Inputs<float> in = random_inputs<float>(23, {3, 5, 4});
    in.q = random_inputs<float>(24, {4, 5, 4}).q;
    write_inputs(dir, in);
    require_one_line_failure(dir, attend_args(dir), "fewer heads");
    write_inputs(dir, random_inputs<float>(25, {2, 5, 4}));
    require_one_line_failure(dir, attend_args(dir, "--variant cubic"), "--variant");
    require_one_line_failure(dir, attend_args(dir, "--variant strassen --cache product"), "variant=strassen");
    require_one_line_failure(dir, attend_args(dir, "--k2-bias one"), "--k2-bias");
}

TEST_CASE("cli: attend rejects mixed float32 and float64 inputs", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    write_npy(dir.in("k2.npy"), make_npy(random_inputs<double>(8, {9, 4}).k2));
    require_one_line_failure(dir, attend_args(dir), "dtype");
}

TEST_CASE("cli: attend rejects empty arrays (n = 0)", "[cli][errors]") {
    TempDir dir;
    write_inputs(dir, random_inputs<float>(9, {0, 4}));
    require_one_line_failure(dir, attend_args(dir), "empty");
}

TEST_CASE("cli: attend rejects a NaN in an input", "[cli][errors]") {
    TempDir dir;
    Inputs<float> in = random_inputs<float>(10, {9, 4});
    in.v1(3, 2) = std::numeric_limits<float>::quiet_NaN();
    write_inputs(dir, in);
    require_one_line_failure(dir, attend_args(dir), "finite");
}

TEST_CASE("cli: attend rejects an infinity in an input", "[cli][errors]") {
    TempDir dir;
    Inputs<double> in = random_inputs<double>(11, {2, 9, 4});
    in.k2(1, 8, 3) = -std::numeric_limits<double>::infinity();
    write_inputs(dir, in);
    require_one_line_failure(dir, attend_args(dir), "finite");
}

TEST_CASE("cli: attend reports a missing input file", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    fs::remove(dir.in("v2.npy"));
    require_one_line_failure(dir, attend_args(dir), "v2.npy");
}

TEST_CASE("cli: attend reports a truncated input file", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    fs::resize_file(dir.in("q.npy"), fs::file_size(dir.in("q.npy")) - 5);
    require_one_line_failure(dir, attend_args(dir), "truncated");
}

TEST_CASE("cli: attend rejects an unknown option", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    require_one_line_failure(dir, attend_args(dir, "--bogus 3"), "--bogus");
}

TEST_CASE("cli: attend rejects an unknown cache spec", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    require_one_line_failure(dir, attend_args(dir, "--cache nosuch"), "unknown cache");
    require_one_line_failure(dir, attend_args(dir, "--cache factor:strategy=magic"), "fused|recompute");
}

TEST_CASE("cli: attend rejects a 1-D array", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    write_npy(dir.in("q.npy"), make_npy(xt::xarray<float>(xt::xarray<float>::from_shape({9}))));
    require_one_line_failure(dir, attend_args(dir), "dimensions");
}

TEST_CASE("cli: attend reports an output path in a missing directory", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    require_one_line_failure(dir, attend_args(dir, "", dir.out("missing/out.npy")), "missing/out.npy");
}

TEST_CASE("cli: attend rejects a non-finite --scale", "[cli][errors]") {
    TempDir dir;
    write_valid(dir);
    require_one_line_failure(dir, attend_args(dir, "--scale inf"), "scale");
}

TEST_CASE("cli: `trikv caches` lists the library's cache types", "[cli]") {
    TempDir dir;
    const Result result = run_cli(dir, "caches");
    CHECK(result.status == 0);
    for (const char* name : {"product", "factor", "reference"}) CHECK_THAT(result.out, Contains(name));
    CHECK_THAT(result.out, Contains("strategy=fused"));
}

TEST_CASE("cli: `trikv attend --help` exits 0 and documents the options", "[cli]") {
    TempDir dir;
    const Result result = run_cli(dir, "attend --help");
    CHECK(result.status == 0);
    for (const char* option : {"--q", "--k1", "--k2", "--v1", "--v2", "--out", "--scale", "--cache"})
        CHECK_THAT(result.out, Contains(option));
}

TEST_CASE("cli: study --data sparse sweeps --nonzeros × --support and rejects bad values", "[cli][sparse]") {
    TempDir dir;
    const std::string study = "study --out " + quote(dir.out("s").string()) + " --cache sparse-product --n 6 --d 8 " +
                              "--repetitions 1 --warmup 0 --no-peaks --data sparse ";
    require_one_line_failure(dir, study + "--nonzeros 9", "data.nonzeros = 9 is out of range [1, d = 8]");
    require_one_line_failure(dir, study + "--support stripes", "--support = 'stripes'");
    require_one_line_failure(dir, study + "--workload vra", "workload = 'vra' is not one of decode, var");
    require_one_line_failure(dir, "study --out " + quote(dir.out("s").string()) + " --cache product --data uniform",
                             "--data = 'uniform'");

    const Result result = run_cli(dir, study + "--nonzeros 2 --nonzeros 8 --support blocks");
    INFO("stderr: " << result.err);
    REQUIRE(result.status == 0);
    const std::string csv = read_text(dir.out("s/results.csv"));
    CHECK_THAT(csv, Contains("sparse(s=2,support=blocks)"));
    CHECK_THAT(csv, Contains("sparse(s=8,support=blocks)"));
    CHECK_THAT(csv, !Contains("support=random"));
}

TEST_CASE("cli: study --kv-heads and --variant sweep grouped heads and variants into results.csv", "[cli]") {
    TempDir dir;
    const std::string study = "study --out " + quote(dir.out("s").string()) +
                              " --cache factor --cache pair-logits --n 6 --d 4 --heads 4 --repetitions 1 --warmup 0 "
                              "--no-peaks ";
    require_one_line_failure(dir, study + "--kv-heads 3", "kv_heads = 3 does not divide heads = 4");
    const Result result = run_cli(dir, study + "--kv-heads 1 --kv-heads 2 --variant rank1 --variant strassen");
    INFO("stderr: " << result.err);
    REQUIRE(result.status == 0);
    const std::vector<ResultRow> rows = read_results_csv(dir.out("s/results.csv"));
    // factor: rank1 and strassen, pair-logits: strassen; × 2 kv head counts.
    REQUIRE(rows.size() == 6);
    std::set<std::string> seen;
    for (const ResultRow& row : rows) {
        CHECK(row.status == trikv::PointStatus::ok);
        CHECK(row.rel_l2_error < 1e-5);
        seen.insert(row.cache_type + "/" + row.variant + "/" + std::to_string(row.kv_heads));
    }
    CHECK(seen == std::set<std::string>{"factor/rank1/1", "factor/rank1/2", "factor/strassen/1", "factor/strassen/2",
                                        "pair-logits/strassen/1", "pair-logits/strassen/2"});
}

TEST_CASE("cli: prefill times causal and full tensor attention beside the SGEMM peak", "[cli]") {
    // Peaks are measured before the first and after every point (seconds each, minutes under
    // TSan), so only one invocation measures them.
    TempDir dir;
    const Result causal = run_cli(dir, "prefill --n 70 --d 4 --repetitions 1 --warmup 0");
    REQUIRE(causal.status == 0);
    CHECK_THAT(causal.out, Contains("SGEMM"));
    CHECK_THAT(causal.out, Contains("    70    4     1 causal"));
    const Result full = run_cli(dir, "prefill --n 5 --n 9 --d 4 --full --repetitions 1 --warmup 0 --no-peaks");
    REQUIRE(full.status == 0);
    CHECK_THAT(full.out, Contains("peaks not measured"));
    CHECK_THAT(full.out, Contains("     9    4     1 full"));
    CHECK_THAT(full.out, Contains("0%"));
    require_one_line_failure(dir, "prefill --n 0", "--n");
}

// ---------------------------------------------------------------------------------------------
// Hostile input: numbers, files and specs a script or a typo can pass (issue 14).

