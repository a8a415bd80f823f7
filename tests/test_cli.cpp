// The `trikv` command line, run as a separate process (TRIKV_CLI, set by tests/CMakeLists.txt)
// on .npy files written into a fresh temporary directory. `trikv attend` must reproduce the
// float64 reference (causal decode), honour --scale and --cache, and fail every bad input with
// exit status 2, exactly one line on stderr naming the problem, and no output file.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "attention/reference.hpp"
#include "attention/tensor_attention.hpp"
#include "framework/npy.hpp"
#include "studies/results.hpp"
#include "support.hpp"

#ifndef TRIKV_CLI
#error "TRIKV_CLI (path of the built trikv executable) must be defined by the build"
#endif

namespace fs = std::filesystem;
using Catch::Contains;
using namespace trikv;
using namespace trikv::test;

namespace {

// A fresh directory per test case with in/ (inputs), out/ (where outputs go) and log/
// (captured stdout and stderr), removed afterwards.
class TempDir {
public:
    TempDir() {
        std::random_device random;
        root_ = fs::temp_directory_path() /
                ("trikv_test_cli_" + std::to_string(::getpid()) + "_" + std::to_string(random()));
        for (const char* sub : {"in", "out", "log"}) fs::create_directories(root_ / sub);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    fs::path in(const std::string& name) const { return root_ / "in" / name; }
    fs::path out(const std::string& name) const { return root_ / "out" / name; }
    fs::path log(const std::string& name) const { return root_ / "log" / name; }
    // Every entry in out/ (an atomic writer must not leave temporary files behind either).
    std::vector<std::string> outputs() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(root_ / "out")) names.push_back(entry.path().filename().string());
        return names;
    }

private:
    fs::path root_;
};

std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Result {
    int status = -1;  // exit status, or -1 if the process did not exit normally
    std::string out, err;
};

// Every run is killed after this long, so a regression to a hang (a FIFO read, a runaway loop)
// fails the test (status 124 from timeout) instead of stalling CI; generous for sanitizer builds.
constexpr int kCliTimeoutSeconds = 300;

// Runs `trikv <arguments>` (arguments already quoted as needed), capturing stdout and stderr.
Result run_cli(const TempDir& dir, const std::string& arguments) {
    const fs::path out = dir.log("stdout.txt"), err = dir.log("stderr.txt");
    const std::string command = "timeout -k 5 " + std::to_string(kCliTimeoutSeconds) + " " + quote(TRIKV_CLI) + " " +
                                arguments + " >" + quote(out.string()) + " 2>" + quote(err.string());
    const int raw = std::system(command.c_str());
    Result result;
    result.status = (raw != -1 && WIFEXITED(raw)) ? WEXITSTATUS(raw) : -1;
    result.out = read_text(out);
    result.err = read_text(err);
    return result;
}

// The five inputs as [n, d] or [h, n, d] arrays of one dtype.
template <Scalar T>
struct Inputs {
    xt::xarray<T> q, k1, k2, v1, v2;
};

template <Scalar T>
Inputs<T> random_inputs(std::uint64_t seed, const std::vector<std::size_t>& shape) {
    Rng rng(seed);
    auto draw = [&] {
        xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
        for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<T>(rng.normal());
        return a;
    };
    Inputs<T> in;
    in.q = draw(), in.k1 = draw(), in.k2 = draw(), in.v1 = draw(), in.v2 = draw();
    return in;
}

// Writes in/{q,k1,k2,v1,v2}.npy.
template <Scalar T>
void write_inputs(const TempDir& dir, const Inputs<T>& in) {
    write_npy(dir.in("q.npy"), make_npy(in.q));
    write_npy(dir.in("k1.npy"), make_npy(in.k1));
    write_npy(dir.in("k2.npy"), make_npy(in.k2));
    write_npy(dir.in("v1.npy"), make_npy(in.v1));
    write_npy(dir.in("v2.npy"), make_npy(in.v2));
}

// `attend` with the five inputs from in/ and the output out/out.npy (or `out`), plus `extra`.
std::string attend_args(const TempDir& dir, const std::string& extra = "", const fs::path& out = {}) {
    std::string args = "attend";
    for (const char* name : {"q", "k1", "k2", "v1", "v2"})
        args += std::string(" --") + name + " " + quote(dir.in(std::string(name) + ".npy").string());
    return args + " --out " + quote((out.empty() ? dir.out("out.npy") : out).string()) +
           (extra.empty() ? "" : " " + extra);
}

// reference::tensor_prefill, causal, head by head; result [h, n, d] (h = 1 for [n, d] inputs).
template <Scalar T>
Heads<double> reference_output(const Inputs<T>& in, double scale) {
    auto heads = [](const xt::xarray<T>& a) {
        Heads<double> out = a.dimension() == 2 ? Heads<double>::from_shape({1, a.shape(0), a.shape(1)})
                                               : Heads<double>::from_shape({a.shape(0), a.shape(1), a.shape(2)});
        for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = static_cast<double>(a.data()[i]);
        return out;
    };
    const Heads<double> q = heads(in.q), k1 = heads(in.k1), k2 = heads(in.k2), v1 = heads(in.v1), v2 = heads(in.v2);
    Heads<double> out = Heads<double>::from_shape(q.shape());
    const std::size_t per_head = q.shape(1) * q.shape(2);
    for (std::size_t h = 0; h < q.shape(0); ++h) {
        const Matrix<double> o = reference::tensor_prefill(head_of(q, h), head_of(k1, h), head_of(k2, h),
                                                           head_of(v1, h), head_of(v2, h), true, scale);
        std::copy_n(o.data(), per_head, out.data() + h * per_head);
    }
    return out;
}

// Runs attend and returns the relative L2 error of out/out.npy against the reference; checks
// exit status 0, empty stderr, and that the output has q's shape and dtype.
template <Scalar T>
double attend_error(const TempDir& dir, const Inputs<T>& in, const std::string& extra, double scale) {
    const Result result = run_cli(dir, attend_args(dir, extra));
    INFO("stderr: " << result.err);
    REQUIRE(result.status == 0);
    CHECK(result.err.empty());
    const NpyArray out = read_npy(dir.out("out.npy"));
    CHECK(out.dtype == (std::is_same_v<T, double> ? DType::float64 : DType::float32));
    CHECK(out.shape == std::vector<std::size_t>(in.q.shape().begin(), in.q.shape().end()));
    const xt::xarray<double> got = out.to_xarray<double>();
    return relative_l2(got, reference_output(in, scale));
}

// float32 somewhere on the path (engine in float, or any --cache): the kernels' tolerance,
// 1e-5 (see test_tensor_attention.cpp; measured ≤ 5e-7 here). float64 through the engine:
// 1e-12 (measured ~1e-15).
constexpr double kFloatTolerance = 1e-5;
constexpr double kDoubleTolerance = 1e-12;

}  // namespace

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

namespace {

// A failing run: status 2, exactly one line on stderr containing `keyword`, no output file.
void require_one_line_failure(const TempDir& dir, const std::string& arguments, const std::string& keyword) {
    const Result result = run_cli(dir, arguments);
    INFO("arguments: " << arguments);
    INFO("stderr: " << result.err);
    CHECK(result.status == 2);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    CHECK((!result.err.empty() && result.err.back() == '\n'));
    CHECK_THAT(result.err, Contains(keyword));
    CHECK(dir.outputs().empty());
}

// Valid float32 [n, d] inputs in dir/in, with one array then replaced by the caller.
void write_valid(const TempDir& dir) { write_inputs(dir, random_inputs<float>(6, {9, 4})); }

}  // namespace

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
    require_one_line_failure(dir, study + "--support stripes", "data.support = 'stripes'");
    require_one_line_failure(dir, study + "--workload vra", "workload = 'vra' is not one of decode, var");
    require_one_line_failure(dir, "study --out " + quote(dir.out("s").string()) + " --cache product --data uniform",
                             "data.kind = 'uniform'");

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

namespace {

// A failure whose line stays short: no 309-digit range, no 100,000-character echo.
void require_short_failure(const TempDir& dir, const std::string& arguments, const std::string& keyword) {
    require_one_line_failure(dir, arguments, keyword);
    const Result result = run_cli(dir, arguments);
    INFO("stderr: " << result.err);
    CHECK(result.err.size() < 400);
    CHECK_THAT(result.err, !Contains("internal error"));
}

// Makes a FIFO at `path`; nothing ever writes to it, so reading it would block forever.
void make_fifo(const fs::path& path) { REQUIRE(::mkfifo(path.c_str(), 0600) == 0); }

}  // namespace

TEST_CASE("cli: numeric options outside the study bounds are refused with a readable range", "[cli][errors][hostile]") {
    TempDir dir;
    require_short_failure(dir, "prefill --n 0", "--n: 0 is out of range [1, 1048576]");
    require_short_failure(dir, "prefill --n 1099511627776", "1099511627776 is out of range [1, 1048576]");
    require_short_failure(dir, "bench --n 1099511627776", "1099511627776 is out of range [1, 1048576]");
    require_short_failure(dir, "bench --n 18446744073709551615", "out of range [1, 1048576]");
    require_short_failure(dir, "bench --heads 1000000000", "--heads: 1000000000 is out of range [1, 1024]");
    require_short_failure(dir, "prefill --d 2.5", "--d: 2.5 is not a whole number");
    require_short_failure(dir, "prefill --repetitions 2147483647 --warmup 2147483647", "out of range");
    require_short_failure(dir, "bench --warmup 2147483647", "--warmup: 2147483647 is out of range [0, 1000]");
    require_short_failure(dir, "prefill --seed -1", "--seed: -1 is out of range [0, 9223372036854775807]");
    require_short_failure(dir, "bench --threads 5000", "--threads: 5000 is out of range [0, 4096]");
    require_short_failure(dir, "bench --scale nan", "--scale: nan is not a finite number");
    write_valid(dir);
    require_short_failure(dir, attend_args(dir, "--mem-limit 99999999999999999999"),
                          "--mem-limit: 99999999999999999999 is not a byte count in [1, 9223372036854775807]");
    require_short_failure(dir, attend_args(dir, "--mem-limit 200%"), "200% is not a byte count");
    require_short_failure(dir, attend_args(dir, "--mem-limit 0"), "--mem-limit: 0 is not");
    require_short_failure(dir, attend_args(dir, "--scale 1e400"), "--scale: 1e400 is not a finite number");
}

TEST_CASE("cli: sizes within bounds whose memory exceeds the machine are refused, not bad_alloc", "[cli][errors][hostile]") {
    TempDir dir;
    require_short_failure(dir, "prefill --n 1048576 --d 65536 --heads 1024 --no-peaks",
                          "more than this machine's");
    require_short_failure(dir, "bench --cache product --n 1048576 --d 65536 --heads 1024 --no-peaks",
                          "more than this machine's");
    require_short_failure(dir, "bench --cache reference --n 1048576 --d 65536 --heads 1024 --no-peaks",
                          "bytes of memory");
}

TEST_CASE("cli: inputs that overflow float32 or whose scores overflow are errors, never a NaN file", "[cli][errors][hostile]") {
    SECTION("a float64 value beyond float32's range through a float32 cache") {
        TempDir dir;
        Inputs<double> in = random_inputs<double>(12, {9, 4});
        in.k1(4, 1) = 1e39;
        write_inputs(dir, in);
        require_one_line_failure(dir, attend_args(dir, "--cache factor"), "element 17 is 1e+39, beyond float32's range");
        // The float64 engine holds it: 1e39 is an ordinary float64.
        CHECK(run_cli(dir, attend_args(dir)).status == 0);
    }
    SECTION("float32 queries and keys of 1e15: the scores overflow") {
        TempDir dir;
        Inputs<float> in = random_inputs<float>(13, {9, 4});
        for (xt::xarray<float>* a : {&in.q, &in.k1, &in.k2}) a->fill(1e15f);
        write_inputs(dir, in);
        require_one_line_failure(dir, attend_args(dir), "the scores overflow float32");
        require_one_line_failure(dir, attend_args(dir, "--cache product"), "the scores overflow float32");
    }
    SECTION("--scale 1e308") {
        TempDir dir;
        write_inputs(dir, random_inputs<double>(14, {9, 4}));
        require_one_line_failure(dir, attend_args(dir, "--scale 1e308"), "the scores overflow float64");
        require_one_line_failure(dir, attend_args(dir, "--scale 1e308 --cache factor"),
                                 "--scale: 1e+308 is beyond float32's range");
        require_one_line_failure(dir, "bench --scale 1e308 --no-peaks", "--scale: 1e+308 is beyond float32's range");
    }
}

TEST_CASE("cli: a FIFO, a device or a directory as an input is refused at once", "[cli][errors][hostile]") {
    TempDir dir;
    write_valid(dir);
    fs::remove(dir.in("q.npy"));
    make_fifo(dir.in("q.npy"));
    require_one_line_failure(dir, attend_args(dir), "q.npy: is a FIFO (named pipe), not a regular file");
    fs::remove(dir.in("q.npy"));
    fs::create_symlink("/dev/zero", dir.in("q.npy"));
    require_one_line_failure(dir, attend_args(dir), "q.npy: is a character device, not a regular file");
    fs::remove(dir.in("q.npy"));
    fs::create_directory(dir.in("q.npy"));
    require_one_line_failure(dir, attend_args(dir), "q.npy: is a directory, not a regular file");
}

TEST_CASE("cli: bench --inputs refuses a FIFO among its files", "[cli][errors][hostile]") {
    TempDir dir;
    write_valid(dir);
    fs::remove(dir.in("k2.npy"));
    make_fifo(dir.in("k2.npy"));
    require_one_line_failure(dir, "bench --no-peaks --cache product --n 4 --d 4 --inputs " + quote(dir.in("").string()),
                             "k2.npy: is a FIFO");
}

TEST_CASE("cli: attend --out writes through a symlink and streams to a pipe", "[cli][hostile]") {
    TempDir dir;
    const Inputs<float> in = random_inputs<float>(15, {7, 3});
    write_inputs(dir, in);
    REQUIRE(run_cli(dir, attend_args(dir)).status == 0);
    const std::string expected = read_text(dir.out("out.npy"));

    // A symlink: its target gets the output, the link stays a link.
    fs::create_directory(dir.out("target"));
    fs::create_symlink(dir.out("target/real.npy"), dir.out("link.npy"));
    REQUIRE(run_cli(dir, attend_args(dir, "", dir.out("link.npy"))).status == 0);
    CHECK(fs::is_symlink(fs::symlink_status(dir.out("link.npy"))));
    CHECK(read_text(dir.out("target/real.npy")) == expected);

    // /dev/stdout on a pipe: streamed, the same bytes arrive.
    const fs::path piped = dir.log("piped.npy");
    const std::string command = "timeout -k 5 " + std::to_string(kCliTimeoutSeconds) + " " + quote(TRIKV_CLI) + " " +
                                attend_args(dir, "", "/dev/stdout") + " | cat >" + quote(piped.string());
    REQUIRE(std::system(command.c_str()) == 0);
    CHECK(read_text(piped) == expected);

    // A named FIFO with a reader: streamed too.
    make_fifo(dir.log("fifo"));
    const std::string reader = "cat " + quote(dir.log("fifo").string()) + " >" + quote(dir.log("from_fifo.npy").string()) +
                               " & " + quote(TRIKV_CLI) + " " + attend_args(dir, "", dir.log("fifo")) + "; wait";
    REQUIRE(std::system(("timeout -k 5 " + std::to_string(kCliTimeoutSeconds) + " sh -c " + quote(reader)).c_str()) == 0);
    CHECK(read_text(dir.log("from_fifo.npy")) == expected);
}

TEST_CASE("cli: attend --out naming a directory and bench --out naming a file fail in one line", "[cli][errors][hostile]") {
    TempDir dir;
    write_valid(dir);
    fs::create_directory(dir.out("a_directory"));
    const Result result = run_cli(dir, attend_args(dir, "", dir.out("a_directory")));
    CHECK(result.status == 2);
    CHECK_THAT(result.err, Contains("a_directory: is a directory"));
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    fs::remove(dir.out("a_directory"));
    std::ofstream(dir.out("afile")) << "not a directory";
    const Result bench = run_cli(dir, "bench --no-peaks --cache product --n 4 --d 4 --out " + quote(dir.out("afile").string()));
    CHECK(bench.status == 2);
    CHECK_THAT(bench.err, Contains("afile: exists and is not a directory"));
    CHECK(std::count(bench.err.begin(), bench.err.end(), '\n') == 1);
}

TEST_CASE("cli: attend --mem-limit is checked from the headers, for the exact engine too", "[cli][errors][hostile]") {
    TempDir dir;
    Inputs<float> in = random_inputs<float>(16, {64, 8});
    in.v2(63, 7) = std::numeric_limits<float>::quiet_NaN();  // found only by reading the data
    write_inputs(dir, in);
    // Refused before the data is read: the message is the limit's, not the NaN's.
    require_one_line_failure(dir, attend_args(dir, "--mem-limit 1000"), "--mem-limit: attend would allocate");
    require_one_line_failure(dir, attend_args(dir, "--mem-limit 1000"), "(exact engine), above the limit of 1000 bytes");
    require_one_line_failure(dir, attend_args(dir, "--mem-limit 1000 --cache product"), "with cache 'product");
    // Under a limit that holds everything, the run goes ahead (and then meets the NaN).
    require_one_line_failure(dir, attend_args(dir, "--mem-limit 1000000000"), "finite");
    in.v2(63, 7) = 0;
    write_inputs(dir, in);
    CHECK(run_cli(dir, attend_args(dir, "--mem-limit 1000000000")).status == 0);
    CHECK(run_cli(dir, attend_args(dir, "--mem-limit 50%")).status == 0);
}

TEST_CASE("cli: cache specs that are empty, huge, multi-line or misspelt fail in one short line", "[cli][errors][hostile]") {
    TempDir dir;
    write_valid(dir);
    require_short_failure(dir, attend_args(dir, "--cache ''"), "unknown cache ''");
    require_short_failure(dir, attend_args(dir, "--cache " + std::string(100000, 'x')), "unknown cache 'xxxx");
    require_short_failure(dir, attend_args(dir, "--cache 'factor:strategy=" + std::string(100000, 'y') + "'"),
                          "strategy=yyyy");
    require_short_failure(dir, attend_args(dir, "--cache " + quote("fac\ntor")), "unknown cache 'fac\\x0ator'");
    require_short_failure(dir, attend_args(dir, "--cache facter"), "unknown cache 'facter' (did you mean 'factor'?)");
    require_short_failure(dir, attend_args(dir, "--cache factor:stratgy=fused"), "(did you mean 'strategy'?)");
    require_short_failure(dir, attend_args(dir, "--cache factor:strategy=fuse"), "(did you mean 'fused'?)");
    require_short_failure(dir, "bench --no-peaks --cache prodcut", "(did you mean 'product'?)");
}

TEST_CASE("cli: `trikv caches` prints integer bounds as integers", "[cli][hostile]") {
    TempDir dir;
    const Result result = run_cli(dir, "caches");
    REQUIRE(result.status == 0);
    CHECK_THAT(result.out, Contains("integer in [1, 1048576]"));
    CHECK_THAT(result.out, !Contains("e+0"));
}
