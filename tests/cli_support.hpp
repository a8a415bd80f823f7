#pragma once
// What the command-line tests share (test_cli.cpp, test_cli_hostile.cpp): a scratch directory
// per test, running the built `trikv` (TRIKV_CLI) as a separate process, writing .npy inputs,
// the float64 reference, and the one-line-failure checks every bad input is held to.
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
#include "studies/results/results.hpp"
#include "support.hpp"

#ifndef TRIKV_CLI
#error "TRIKV_CLI (path of the built trikv executable) must be defined by the build"
#endif

namespace trikv::test::cli {

namespace fs = std::filesystem;
using Catch::Contains;

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

inline std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Result {
    int status = -1;  // exit status, or -1 if the process did not exit normally
    std::string out, err;
};

// Every run is killed after this long, so a regression to a hang (a FIFO read, a runaway loop)
// fails the test (status 124 from timeout) instead of stalling CI; generous for sanitizer builds.
inline constexpr int kCliTimeoutSeconds = 300;

// Runs `trikv <arguments>` (arguments already quoted as needed), capturing stdout and stderr.
inline Result run_cli(const TempDir& dir, const std::string& arguments) {
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
inline Inputs<T> random_inputs(std::uint64_t seed, const std::vector<std::size_t>& shape) {
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
inline void write_inputs(const TempDir& dir, const Inputs<T>& in) {
    write_npy(dir.in("q.npy"), make_npy(in.q));
    write_npy(dir.in("k1.npy"), make_npy(in.k1));
    write_npy(dir.in("k2.npy"), make_npy(in.k2));
    write_npy(dir.in("v1.npy"), make_npy(in.v1));
    write_npy(dir.in("v2.npy"), make_npy(in.v2));
}

// `attend` with the five inputs from in/ and the output out/out.npy (or `out`), plus `extra`.
inline std::string attend_args(const TempDir& dir, const std::string& extra = "", const fs::path& out = {}) {
    std::string args = "attend";
    for (const char* name : {"q", "k1", "k2", "v1", "v2"})
        args += std::string(" --") + name + " " + quote(dir.in(std::string(name) + ".npy").string());
    return args + " --out " + quote((out.empty() ? dir.out("out.npy") : out).string()) +
           (extra.empty() ? "" : " " + extra);
}

// reference::tensor_prefill, causal, head by head; result [h, n, d] (h = 1 for [n, d] inputs).
template <Scalar T>
inline Heads<double> reference_output(const Inputs<T>& in, double scale) {
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
inline double attend_error(const TempDir& dir, const Inputs<T>& in, const std::string& extra, double scale) {
    const Result result = run_cli(dir, attend_args(dir, extra));
    INFO("stderr: " << result.err);
    REQUIRE(result.status == 0);
    CHECK(result.err.empty());
    const NpyArray out = read_npy(dir.out("out.npy"));
    CHECK(out.dtype == (std::is_same_v<T, double> ? Dtype::f64 : Dtype::f32));
    CHECK(out.shape == std::vector<std::size_t>(in.q.shape().begin(), in.q.shape().end()));
    const xt::xarray<double> got = out.to_xarray<double>();
    return relative_l2(got, reference_output(in, scale));
}

// float32 somewhere on the path (engine in float, or any --cache): the kernels' tolerance,
// 1e-5 (see test_tensor_attention.cpp; measured ≤ 5e-7 here). float64 through the engine:
// 1e-12 (measured ~1e-15).
inline constexpr double kFloatTolerance = 1e-5;
inline constexpr double kDoubleTolerance = 1e-12;

// A failing run: status 2, exactly one line on stderr containing `keyword`, no output file.
inline void require_one_line_failure(const TempDir& dir, const std::string& arguments, const std::string& keyword) {
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
inline void write_valid(const TempDir& dir) { write_inputs(dir, random_inputs<float>(6, {9, 4})); }


// A failure whose line stays short: no 309-digit range, no 100,000-character echo.
inline void require_short_failure(const TempDir& dir, const std::string& arguments, const std::string& keyword) {
    require_one_line_failure(dir, arguments, keyword);
    const Result result = run_cli(dir, arguments);
    INFO("stderr: " << result.err);
    CHECK(result.err.size() < 400);
    CHECK_THAT(result.err, !Contains("internal error"));
}

// Makes a FIFO at `path`; nothing ever writes to it, so reading it would block forever.
inline void make_fifo(const fs::path& path) { REQUIRE(::mkfifo(path.c_str(), 0600) == 0); }


}  // namespace trikv::test::cli
