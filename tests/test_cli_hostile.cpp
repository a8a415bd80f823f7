// The `trikv` command line against hostile input: sizes and numbers out of bounds, memory the
// machine lacks, overflowing scores, FIFOs and devices as inputs, odd output paths, huge or
// misspelt specs. Each must fail with exit status 2 and one short line, and write nothing.
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
        require_one_line_failure(dir, "bench --scale 1e308 --no-peaks", "--scale: 1e308 is not a finite number in (0, 1000000]");
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

TEST_CASE("cli: attend --out and bench --csv naming a directory fail in one line", "[cli][errors][hostile]") {
    TempDir dir;
    write_valid(dir);
    fs::create_directory(dir.out("a_directory"));
    const Result result = run_cli(dir, attend_args(dir, "", dir.out("a_directory")));
    CHECK(result.status == 2);
    CHECK_THAT(result.err, Contains("a_directory: is a directory"));
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    const Result bench = run_cli(dir, "bench --no-peaks --cache product --n 4 --d 4 --csv " + quote(dir.out("a_directory").string()));
    CHECK(bench.status == 2);
    CHECK_THAT(bench.err, Contains("a_directory: is a directory"));
    CHECK(std::count(bench.err.begin(), bench.err.end(), '\n') == 1);
    CHECK(bench.out.find("factor") == std::string::npos);  // refused before anything is measured
    fs::remove(dir.out("a_directory"));
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

