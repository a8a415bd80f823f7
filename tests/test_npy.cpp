#include "framework/npy.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "framework/error.hpp"
#include "framework/files.hpp"

namespace fs = std::filesystem;
using Catch::Contains;
using Catch::StartsWith;
using trikv::Dtype;
using trikv::NpyArray;

namespace {

// A fresh directory per test case, removed afterwards, so tests never see each other's files.
class TempDir {
public:
    TempDir() {
        std::random_device random;
        path_ = fs::temp_directory_path() /
                ("trikv_test_npy_" + std::to_string(::getpid()) + "_" + std::to_string(random()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    fs::path operator/(const std::string& name) const { return path_ / name; }
    const fs::path& path() const { return path_; }

    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(path_)) names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

private:
    fs::path path_;
};

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

// The little-endian bytes of the given values, as they appear after a .npy header.
template <class T>
std::string payload(const std::vector<T>& values) {
    std::string bytes(values.size() * sizeof(T), '\0');
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

// Magic, version, little-endian header length, then the dict padded with spaces and '\n' to 64 bytes.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    while ((8 + length_bytes + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    for (std::size_t i = 0; i < length_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return out + header + data;
}

std::string f4_dict(const std::string& shape) {
    return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

template <class T>
xt::xarray<T> ramp(const std::vector<std::size_t>& shape) {
    xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<T>(0.37 * static_cast<double>(i) - 5.0);
    return a;
}

template <class T>
std::vector<T> flat(const xt::xarray<T>& a) {
    return {a.data(), a.data() + a.size()};
}

template <class T>
void check_round_trip(const TempDir& dir, const std::vector<std::size_t>& shape) {
    const xt::xarray<T> original = ramp<T>(shape);
    const fs::path path = dir / "round_trip.npy";
    trikv::write_npy(path, trikv::make_npy(original));
    const NpyArray loaded = trikv::read_npy(path);
    REQUIRE(loaded.dtype == (std::is_same_v<T, float> ? Dtype::f32 : Dtype::f64));
    REQUIRE(loaded.shape == shape);
    const xt::xarray<T> back = loaded.to_xarray<T>();
    REQUIRE(std::vector<std::size_t>(back.shape().begin(), back.shape().end()) == shape);
    REQUIRE(flat(back) == flat(original));
}

// Writes `bytes` to a file and requires read_npy to fail with a one-line message naming the file and `fragment`.
void require_read_error(const TempDir& dir, const std::string& bytes, const std::string& fragment) {
    const fs::path path = dir / "bad.npy";
    write_bytes(path, bytes);
    REQUIRE_THROWS_WITH(trikv::read_npy(path),
                        StartsWith(path.string() + ": ") && Contains(fragment) && !Contains("\n"));
}

}  // namespace

TEST_CASE("npy: float32 and float64 round trip for [n,d] and [h,n,d] shapes", "[npy]") {
    const TempDir dir;
    const std::vector<std::vector<std::size_t>> shapes = {{3, 5}, {1, 7}, {7, 1}, {0, 4}, {2, 3, 5}, {3, 1, 9}, {5}};
    for (const auto& shape : shapes) {
        CAPTURE(shape);
        check_round_trip<float>(dir, shape);
        check_round_trip<double>(dir, shape);
    }
}

TEST_CASE("npy: 0-d array holds one element", "[npy]") {
    const TempDir dir;
    check_round_trip<float>(dir, {});
    check_round_trip<double>(dir, {});
    const NpyArray loaded = trikv::read_npy(dir / "round_trip.npy");
    REQUIRE(loaded.size() == 1);
    REQUIRE(loaded.data.size() == 8);
}

TEST_CASE("npy: make_npy records dtype, shape and C-order bytes", "[npy]") {
    const NpyArray array = trikv::make_npy(ramp<float>({2, 3}));
    REQUIRE(array.dtype == Dtype::f32);
    REQUIRE(array.shape == std::vector<std::size_t>{2, 3});
    REQUIRE(array.size() == 6);
    REQUIRE(array.itemsize() == 4);
    REQUIRE(array.data.size() == 24);
    REQUIRE(trikv::make_npy(ramp<double>({2, 3})).itemsize() == 8);
    REQUIRE(std::string(trikv::numpy_dtype_name(Dtype::f32)) == "float32");
    REQUIRE(std::string(trikv::numpy_dtype_name(Dtype::f64)) == "float64");
}

TEST_CASE("npy: to_xarray converts between float32 and float64", "[npy]") {
    const xt::xarray<float> single = ramp<float>({4, 3});
    const xt::xarray<double> widened = trikv::make_npy(single).to_xarray<double>();
    for (std::size_t i = 0; i < single.size(); ++i) REQUIRE(widened.data()[i] == static_cast<double>(single.data()[i]));

    const xt::xarray<double> dbl = ramp<double>({2, 2, 2});
    const xt::xarray<float> narrowed = trikv::make_npy(dbl).to_xarray<float>();
    for (std::size_t i = 0; i < dbl.size(); ++i) REQUIRE(narrowed.data()[i] == static_cast<float>(dbl.data()[i]));
}

TEST_CASE("npy: to_xarray rejects data that does not match the shape", "[npy]") {
    NpyArray array = trikv::make_npy(ramp<float>({2, 3}));
    array.data.pop_back();
    REQUIRE_THROWS_AS(array.to_xarray<float>(), trikv::Error);
    REQUIRE_THROWS_WITH(array.to_xarray<float>(), Contains("23 data bytes") && Contains("needs 24 bytes"));
}

TEST_CASE("npy: writer pads the preamble to a multiple of 64 bytes", "[npy]") {
    const TempDir dir;
    std::vector<std::size_t> shape;
    for (std::size_t ndim = 0; ndim <= 24; ++ndim) {
        CAPTURE(ndim);
        NpyArray array;
        array.dtype = ndim % 2 == 0 ? Dtype::f32 : Dtype::f64;
        array.shape = shape;
        array.data.resize(array.size() * array.itemsize());
        const fs::path path = dir / "padded.npy";
        trikv::write_npy(path, array);
        const std::string bytes = read_bytes(path);
        REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
        const std::size_t header_length =
            static_cast<unsigned char>(bytes[8]) | static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8;
        const std::size_t preamble = 10 + header_length;
        REQUIRE(preamble % 64 == 0);
        REQUIRE(bytes[preamble - 1] == '\n');
        REQUIRE(bytes.size() == preamble + array.data.size());
        shape.push_back(ndim % 3 + 1);
    }
}

TEST_CASE("npy: writer output matches numpy's bytes for a (2, 3) float32 array", "[npy]") {
    const TempDir dir;
    const fs::path path = dir / "numpy_layout.npy";
    trikv::write_npy(path, trikv::make_npy(xt::xarray<float>{{0, 1, 2}, {3, 4, 5}}));
    const std::string expected = npy_bytes(f4_dict("(2, 3)"), payload<float>({0, 1, 2, 3, 4, 5}));
    REQUIRE(expected.size() == 128 + 24);
    REQUIRE(read_bytes(path) == expected);
}

TEST_CASE("npy: writer switches to version 2.0 when the header exceeds 65535 bytes", "[npy]") {
    const TempDir dir;
    NpyArray array;
    array.shape.assign(25000, 1);
    array.data.resize(4);
    const fs::path path = dir / "wide.npy";
    trikv::write_npy(path, array);
    const std::string bytes = read_bytes(path);
    REQUIRE(bytes[6] == 2);
    const NpyArray loaded = trikv::read_npy(path);
    REQUIRE(loaded.shape == array.shape);
    REQUIRE(loaded.data == array.data);
}

TEST_CASE("npy: reads hand-built files in numpy's byte layout", "[npy]") {
    const TempDir dir;
    const fs::path path = dir / "hand.npy";

    SECTION("exact np.save output, version 1.0") {
        const std::string dict = f4_dict("(2, 3)");
        std::string bytes = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
        bytes += std::string(0x76 - dict.size() - 1, ' ') + "\n";
        REQUIRE(bytes.size() == 128);
        write_bytes(path, bytes + payload<float>({0, 1, 2, 3, 4, 5}));
        const NpyArray loaded = trikv::read_npy(path);
        REQUIRE(loaded.dtype == Dtype::f32);
        REQUIRE(loaded.shape == std::vector<std::size_t>{2, 3});
        REQUIRE(flat(loaded.to_xarray<float>()) == std::vector<float>{0, 1, 2, 3, 4, 5});
    }
    SECTION("versions 2.0 and 3.0 with float64") {
        for (const int major : {2, 3}) {
            const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
            write_bytes(path, npy_bytes(dict, payload<double>({1.5, -2.25, 1e300}), major));
            const NpyArray loaded = trikv::read_npy(path);
            REQUIRE(loaded.dtype == Dtype::f64);
            REQUIRE(loaded.shape == std::vector<std::size_t>{3});
            REQUIRE(flat(loaded.to_xarray<double>()) == std::vector<double>{1.5, -2.25, 1e300});
        }
    }
    SECTION("keys in any order, double quotes, whitespace and trailing commas") {
        const std::string dict = "{ \"shape\" :( 2 ,\t3 , ),\"fortran_order\":False , 'descr':'=f8'}";
        write_bytes(path, npy_bytes(dict, payload<double>({1, 2, 3, 4, 5, 6})));
        const NpyArray loaded = trikv::read_npy(path);
        REQUIRE(loaded.dtype == Dtype::f64);
        REQUIRE(loaded.shape == std::vector<std::size_t>{2, 3});
    }
    SECTION("native byte order '|f4' and a 0-d shape") {
        const std::string dict = "{'descr': '|f4', 'fortran_order': False, 'shape': (), }";
        write_bytes(path, npy_bytes(dict, payload<float>({7.5f})));
        const NpyArray loaded = trikv::read_npy(path);
        REQUIRE(loaded.shape.empty());
        REQUIRE(loaded.to_xarray<float>()() == 7.5f);
    }
    SECTION("empty array") {
        write_bytes(path, npy_bytes(f4_dict("(0, 5)"), ""));
        const NpyArray loaded = trikv::read_npy(path);
        REQUIRE(loaded.shape == std::vector<std::size_t>{0, 5});
        REQUIRE(loaded.data.empty());
    }
}

TEST_CASE("npy: file-level errors", "[npy]") {
    const TempDir dir;
    const std::string data = payload<float>({0, 1, 2, 3, 4, 5});

    SECTION("missing file") {
        const fs::path path = dir / "absent.npy";
        REQUIRE_THROWS_WITH(trikv::read_npy(path), StartsWith(path.string() + ": ") &&
                                                       Contains("cannot open file for reading") &&
                                                       Contains("No such file"));
    }
    SECTION("too short") { require_read_error(dir, "abc", "not a .npy file: it is only 3 bytes long"); }
    SECTION("bad magic") {
        require_read_error(dir, "PK\x03\x04 this is a zip" + std::string(100, ' '),
                           "not a .npy file: it starts with 'PK\\x03\\x04 t'; expected the magic");
    }
    SECTION("unsupported version") {
        std::string bytes = npy_bytes(f4_dict("(2, 3)"), data);
        bytes[6] = 4;
        require_read_error(dir, bytes, "unsupported .npy format version 4.0; expected 1.0, 2.0 or 3.0");
        bytes[6] = 1;
        bytes[7] = 1;
        require_read_error(dir, bytes, "unsupported .npy format version 1.1");
    }
    SECTION("file ends inside the header length field") {
        require_read_error(dir, std::string("\x93NUMPY\x02\x00\x10", 9),
                           "truncated header: the file is 9 bytes long and ends inside the 4-byte header length field");
    }
    SECTION("file ends inside the header") {
        const std::string bytes = npy_bytes(f4_dict("(2, 3)"), data);
        require_read_error(dir, bytes.substr(0, 50),
                           "truncated header: the header length field declares 118 bytes but only 40 bytes follow it");
    }
    SECTION("data truncated") {
        const std::string bytes = npy_bytes(f4_dict("(2, 3)"), data.substr(0, 20));
        require_read_error(dir, bytes,
                           "data truncated: header declares shape (2, 3) float32 = 24 bytes but the file holds only 20 "
                           "bytes after the header");
    }
    SECTION("trailing bytes after the data") {
        const std::string bytes = npy_bytes(f4_dict("(2, 3)"), data + "junk");
        require_read_error(dir, bytes,
                           "trailing data: header declares shape (2, 3) float32 = 24 bytes but the file "
                           "holds 28 bytes after the header (4 extra); the file is corrupt");
    }
}

TEST_CASE("npy: header errors", "[npy]") {
    const TempDir dir;
    const std::string data = payload<float>({0, 1, 2, 3, 4, 5});
    const auto with_dict = [&](const std::string& dict) { return npy_bytes(dict, data); };

    SECTION("malformed dict") {
        require_read_error(dir, with_dict("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}"),
                           "malformed header dict (unexpected ':' at offset 31)");
        require_read_error(dir, with_dict("['descr', '<f4']"), "malformed header dict (expected '{' at offset 0)");
        require_read_error(dir, with_dict("{'descr: '<f4'}"), "malformed header dict");
        require_read_error(dir, with_dict(f4_dict("(2, 3)") + " extra"),
                           "malformed header dict (unexpected text after the closing '}')");
        require_read_error(dir, with_dict("{'descr': '<f4', 'descr': '<f4'}"), "key 'descr' appears twice");
        require_read_error(dir, with_dict("{'descr': '<f4', 'shape': (2, 3)"), "ends before the closing '}'");
        require_read_error(dir, with_dict("{'descr': , 'shape': (2, 3)}"), "empty value");
    }
    SECTION("missing key") {
        require_read_error(dir, with_dict("{'descr': '<f4', 'fortran_order': False}"),
                           "header dict has no 'shape' key; expected 'descr', 'fortran_order' and 'shape'");
        require_read_error(dir, with_dict("{'shape': (2, 3), 'fortran_order': False}"), "has no 'descr' key");
    }
    SECTION("unexpected key") {
        require_read_error(dir, with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}"),
                           "header dict has unexpected key 'x'");
    }
    SECTION("Fortran order") {
        require_read_error(dir, with_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"),
                           "fortran_order=True is not supported; save with C order (np.ascontiguousarray)");
        require_read_error(dir, with_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }"),
                           "fortran_order is 0; expected False");
    }
    SECTION("unsupported dtypes") {
        for (const std::string descr : {"<i4", "<f2", "<c8", "|u1", "<U3"}) {
            require_read_error(dir, with_dict("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2, 3)}"),
                               "dtype '" + descr + "' is not supported; expected float32 ('<f4') or float64 ('<f8')");
        }
        require_read_error(dir, with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3)}"),
                           "dtype [('a', '<f4')] is not supported (not a simple dtype)");
    }
    SECTION("big-endian") {
        require_read_error(dir, with_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3)}"),
                           "dtype '>f4' is big-endian, which is not supported; expected '<f4'");
        require_read_error(dir, with_dict("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3)}"),
                           "dtype '>f8' is big-endian");
    }
    SECTION("shapes that are not tuples of non-negative integers") {
        require_read_error(dir, with_dict(f4_dict("[2, 3]")), "shape [2, 3] is invalid (not a parenthesised tuple)");
        require_read_error(dir, with_dict(f4_dict("(2, -3)")), "entry '-3' is not a non-negative integer");
        require_read_error(dir, with_dict(f4_dict("(2.0, 3)")), "entry '2.0' is not a non-negative integer");
        require_read_error(dir, with_dict(f4_dict("(2,, 3)")), "entry '' is not a non-negative integer");
        require_read_error(dir, with_dict(f4_dict("(,)")), "entry '' is not a non-negative integer");
    }
    SECTION("shapes whose size overflows or is absurd are rejected before allocating") {
        require_read_error(dir, with_dict(f4_dict("(99999999999999999999999,)")),
                           "entry 99999999999999999999999 overflows 64 bits");
        require_read_error(dir, with_dict(f4_dict("(4294967296, 4294967296, 4294967296)")),
                           "header declares shape (4294967296, 4294967296, 4294967296) float32, whose byte size "
                           "overflows 64 bits");
        require_read_error(
            dir, with_dict(f4_dict("(1048576, 1048576)")),
            "header declares shape (1048576, 1048576) float32 = 4398046511104 bytes, above the 2^40-byte "
            "(1 TiB) limit");
        require_read_error(dir, with_dict(f4_dict("(100000, 100000)")),
                           "data truncated: header declares shape (100000, 100000) float32 = 40000000000 bytes but the "
                           "file holds only 24 bytes after the header");
    }
}

TEST_CASE("npy: write into a missing directory throws and creates nothing", "[npy]") {
    const TempDir dir;
    const fs::path path = dir / "missing" / "out.npy";
    REQUIRE_THROWS_WITH(trikv::write_npy(path, trikv::make_npy(ramp<float>({2, 3}))),
                        StartsWith(path.string() + ": ") && Contains("cannot create temporary file") &&
                            Contains("No such file or directory"));
    REQUIRE_FALSE(fs::exists(path));
    REQUIRE(dir.entries().empty());
}

TEST_CASE("npy: a failed write leaves the existing target unchanged", "[npy]") {
    const TempDir dir;
    const fs::path path = dir / "target.npy";
    trikv::write_npy(path, trikv::make_npy(ramp<float>({2, 3})));
    const std::string before = read_bytes(path);

    SECTION("inconsistent array") {
        NpyArray bad = trikv::make_npy(ramp<double>({4, 4}));
        bad.data.resize(10);
        REQUIRE_THROWS_WITH(trikv::write_npy(path, bad),
                            StartsWith(path.string() + ": cannot write: NpyArray holds 10 data bytes but shape (4, 4) "
                                                       "float64 needs 128 bytes"));
        REQUIRE(read_bytes(path) == before);
        REQUIRE(dir.entries() == std::vector<std::string>{"target.npy"});
    }
    SECTION("rename onto a directory fails and the temporary is removed") {
        const fs::path blocked = dir / "blocked.npy";
        fs::create_directory(blocked);
        write_bytes(blocked / "keep.txt", "keep");
        // write_npy refuses a directory before writing anything; the atomic writer beneath it
        // gets as far as the rename.
        REQUIRE_THROWS_WITH(trikv::write_npy(blocked, trikv::make_npy(ramp<float>({2, 3}))),
                            StartsWith(blocked.string() + ": is a directory"));
        REQUIRE_THROWS_WITH(trikv::write_file_atomically(blocked, "data"),
                            StartsWith(blocked.string() + ": cannot rename temporary file"));
        REQUIRE(fs::is_directory(blocked));
        REQUIRE(read_bytes(blocked / "keep.txt") == "keep");
        REQUIRE(dir.entries() == std::vector<std::string>{"blocked.npy", "target.npy"});
        REQUIRE(read_bytes(path) == before);
    }
    SECTION("a successful overwrite replaces the file and leaves no temporary") {
        trikv::write_npy(path, trikv::make_npy(ramp<double>({3})));
        REQUIRE(trikv::read_npy(path).shape == std::vector<std::size_t>{3});
        REQUIRE(dir.entries() == std::vector<std::string>{"target.npy"});
    }
}

TEST_CASE("npy: a FIFO, a device or a directory is refused without reading", "[npy][hostile]") {
    const TempDir dir;
    // Nothing writes to the FIFO: a reader that opened or read it would block here forever
    // (ctest's timeout would then fail the test).
    REQUIRE(::mkfifo((dir / "fifo.npy").c_str(), 0600) == 0);
    CHECK_THROWS_WITH(trikv::read_npy(dir / "fifo.npy"), Contains("fifo.npy: is a FIFO (named pipe), not a regular file"));
    CHECK_THROWS_WITH(trikv::read_npy_header(dir / "fifo.npy"), Contains("is a FIFO"));
    CHECK_THROWS_WITH(trikv::read_npy("/dev/zero"), Contains("/dev/zero: is a character device, not a regular file"));
    CHECK_THROWS_WITH(trikv::read_npy(dir.path()), Contains("is a directory, not a regular file"));
    fs::create_symlink(dir / "fifo.npy", dir / "link.npy");  // followed, then refused
    CHECK_THROWS_WITH(trikv::read_npy(dir / "link.npy"), Contains("is a FIFO"));
}

TEST_CASE("npy: read_npy_header reports dtype, shape and data bytes without reading the data", "[npy]") {
    const TempDir dir;
    trikv::write_npy(dir / "a.npy", trikv::make_npy(xt::xarray<double>(xt::zeros<double>({2, 3, 5}))));
    const trikv::NpyHeader header = trikv::read_npy_header(dir / "a.npy");
    CHECK(header.dtype == Dtype::f64);
    CHECK(header.shape == std::vector<std::size_t>{2, 3, 5});
    CHECK(header.size() == 30);
    CHECK(header.data_bytes == 240);
    fs::resize_file(dir / "a.npy", fs::file_size(dir / "a.npy") - 8);  // the header is checked against the size
    CHECK_THROWS_WITH(trikv::read_npy_header(dir / "a.npy"), Contains("data truncated"));
}

TEST_CASE("npy: to_finite_xarray names the element that is not finite in the target type", "[npy][hostile]") {
    xt::xarray<double> values = {{1.0, 2.0}, {1e39, 4.0}};
    const NpyArray wide = trikv::make_npy(values);
    CHECK(wide.to_finite_xarray<double>("x")(1, 0) == 1e39);  // an ordinary float64
    CHECK_THROWS_WITH(wide.to_finite_xarray<float>("--k1 k1.npy"),
                      Contains("--k1 k1.npy: element 2 is 1e+39, beyond float32's range"));
    values(0, 1) = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(trikv::make_npy(values).to_finite_xarray<double>("x"),
                      Contains("x: element 1 is -inf; inputs must be finite"));
    const xt::xarray<float> single = {std::numeric_limits<float>::quiet_NaN()};
    CHECK_THROWS_WITH(trikv::make_npy(single).to_finite_xarray<double>("y"), Contains("y: element 0 is nan"));
}

TEST_CASE("npy: writing through a symlink replaces its target and keeps the link", "[npy][hostile]") {
    const TempDir dir;
    fs::create_symlink("target.npy", dir / "link.npy");  // relative, dangling until written
    const xt::xarray<float> values = {1.f, 2.f, 3.f};
    trikv::write_npy(dir / "link.npy", trikv::make_npy(values));
    CHECK(fs::is_symlink(fs::symlink_status(dir / "link.npy")));
    const bool same = trikv::read_npy(dir / "target.npy").to_xarray<float>() == values;
    CHECK(same);
    CHECK(dir.entries() == std::vector<std::string>{"link.npy", "target.npy"});
}
