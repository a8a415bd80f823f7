#include "framework/npy.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "framework/checked.hpp"
#include "framework/error.hpp"
#include "framework/files.hpp"

namespace trikv {

// Stored bytes are copied straight into host floats, which is only correct on little-endian hosts.
static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");
// to_xarray and make_npy copy the flat buffer, which must therefore be in C order.
static_assert(xt::xarray<float>::static_layout == xt::layout_type::row_major, "npy I/O assumes row-major xarray");

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kMagicAndVersionBytes = 8;
constexpr std::size_t kAlign = 64;                               // numpy starts the data on a 64-byte boundary
constexpr std::uint64_t kMaxDataBytes = std::uint64_t{1} << 40;  // 1 TiB: a larger header is corrupt

Error file_error(const fs::path& path, const std::string& problem) { return Error(printable(path.string()) + ": " + problem); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::size_t itemsize_of(Dtype dtype) { return dtype == Dtype::f32 ? 4 : 8; }

// Python's repr of a shape tuple: "()", "(3,)", "(2, 3)".
std::string shape_repr(const std::vector<std::size_t>& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + (shape.size() == 1 ? ",)" : ")");
}

std::string describe(const std::vector<std::size_t>& shape, Dtype dtype) {
    return "shape " + printable(shape_repr(shape)) + " " + numpy_dtype_name(dtype);
}

// Number of data bytes the shape needs, or nullopt if that does not fit in 64 bits.
std::optional<std::uint64_t> byte_size(const std::vector<std::size_t>& shape, std::size_t itemsize) {
    const std::optional<std::size_t> count = checked_product(shape);
    return count ? checked_product({*count, itemsize}) : std::nullopt;
}

// NpyArray is a plain struct, so callers can build one whose data does not match its shape.
void require_consistent(const NpyArray& array, const std::string& context) {
    const auto bytes = byte_size(array.shape, array.itemsize());
    if (bytes && *bytes == array.data.size()) return;
    throw Error(context + "NpyArray holds " + std::to_string(array.data.size()) + " data bytes but " +
                describe(array.shape, array.dtype) + " needs " +
                (bytes ? std::to_string(*bytes) : std::string("more than 2^64")) + " bytes");
}

// ---------------------------------------------------------------------------------------------
// Reading

struct Preamble {
    std::uint64_t size = 0;  // magic + version + length field + header
    std::string header;      // the dict literal with numpy's space padding and '\n'
};

Preamble read_preamble(RegularFile& in, const fs::path& path) {
    const std::uint64_t file_size = in.size();
    if (file_size < kMagicAndVersionBytes) {
        throw file_error(path, "not a .npy file: it is only " + std::to_string(file_size) +
                                   " bytes long; expected at least 8 bytes starting with the magic '\\x93NUMPY'");
    }
    std::array<unsigned char, 12> fixed{};  // magic (6) + version (2) + header length (2 or 4)
    in.read(fixed.data(), kMagicAndVersionBytes, "the magic string");
    const std::string_view magic(reinterpret_cast<const char*>(fixed.data()), kMagic.size());
    if (magic != kMagic) {
        throw file_error(path,
                         "not a .npy file: it starts with '" + printable(magic) + "'; expected the magic '\\x93NUMPY'");
    }
    const int major = fixed[6];
    const int minor = fixed[7];
    const std::string version = std::to_string(major) + "." + std::to_string(minor);
    if (minor != 0 || major < 1 || major > 3) {
        throw file_error(path, "unsupported .npy format version " + version + "; expected 1.0, 2.0 or 3.0");
    }
    // Version 1.0 stores the header length in 2 bytes; 2.0 and 3.0 widened it to 4.
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    const std::uint64_t prefix = kMagicAndVersionBytes + length_bytes;
    if (file_size < prefix) {
        throw file_error(path, "truncated header: the file is " + std::to_string(file_size) +
                                   " bytes long and ends inside the " + std::to_string(length_bytes) +
                                   "-byte header length field of a version " + version + " file");
    }
    in.read(fixed.data() + kMagicAndVersionBytes, length_bytes, "the header length");
    std::uint64_t header_length = 0;
    for (std::size_t i = length_bytes; i-- > 0;) {
        header_length = (header_length << 8) | fixed[kMagicAndVersionBytes + i];
    }
    if (header_length > file_size - prefix) {
        throw file_error(path, "truncated header: the header length field declares " + std::to_string(header_length) +
                                   " bytes but only " + std::to_string(file_size - prefix) + " bytes follow it");
    }
    Preamble preamble{prefix + header_length, std::string(header_length, '\0')};
    in.read(preamble.header.data(), header_length, "the header");
    return preamble;
}

// Reads the Python dict literal numpy writes. Values are kept as raw text and interpreted per key,
// so an unexpected value yields a message about that key rather than a generic syntax error.
class HeaderDictParser {
public:
    HeaderDictParser(const fs::path& path, std::string_view text) : path_(path), text_(text) {}

    std::map<std::string, std::string_view> parse() {
        std::map<std::string, std::string_view> entries;
        skip_space();
        expect('{');
        for (;;) {
            skip_space();
            if (consume('}')) break;
            const std::string key(read_key());
            skip_space();
            expect(':');
            if (!entries.emplace(key, read_value()).second) throw malformed("key '" + key + "' appears twice");
            skip_space();
            if (consume('}')) break;
            expect(',');
        }
        skip_space();
        if (!at_end()) throw malformed("unexpected text after the closing '}'");
        return entries;
    }

private:
    Error malformed(const std::string& problem) const {
        return file_error(path_, "malformed header dict (" + problem + "): " + printable(trim(text_)));
    }

    bool at_end() const { return pos_ >= text_.size(); }
    std::string offset() const { return " at offset " + std::to_string(pos_); }

    void skip_space() {
        while (!at_end() && is_space(text_[pos_])) ++pos_;
    }

    bool consume(char c) {
        if (at_end() || text_[pos_] != c) return false;
        ++pos_;
        return true;
    }

    void expect(char c) {
        if (!consume(c)) throw malformed(std::string("expected '") + c + "'" + offset());
    }

    // Steps over the quoted string starting at pos_, honouring backslash escapes.
    void skip_string() {
        const char quote = text_[pos_++];
        while (!at_end() && text_[pos_] != quote) pos_ += text_[pos_] == '\\' ? 2 : 1;
        if (at_end()) throw malformed("unterminated string");
        ++pos_;
    }

    std::string_view read_key() {
        if (at_end() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
            throw malformed("expected a quoted key" + offset());
        }
        const std::size_t start = pos_;
        skip_string();
        return text_.substr(start + 1, pos_ - start - 2);
    }

    // A value runs to the next ',' or '}' outside brackets and strings.
    std::string_view read_value() {
        const std::size_t start = pos_;
        int depth = 0;
        while (!at_end()) {
            const char c = text_[pos_];
            if (c == '\'' || c == '"') {
                skip_string();
                continue;
            }
            if (depth == 0 && (c == ',' || c == '}')) break;
            if (depth == 0 && c == ':') throw malformed("unexpected ':'" + offset());
            if (c == '(' || c == '[' || c == '{') {
                ++depth;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) throw malformed(std::string("unbalanced '") + c + "'" + offset());
                --depth;
            }
            ++pos_;
        }
        if (at_end()) throw malformed("the header ends before the closing '}'");
        const std::string_view value = trim(text_.substr(start, pos_ - start));
        if (value.empty()) throw malformed("empty value" + offset());
        return value;
    }

    const fs::path& path_;
    std::string_view text_;
    std::size_t pos_ = 0;
};

Dtype parse_descr(const fs::path& path, std::string_view raw) {
    constexpr const char* kExpected = "; expected float32 ('<f4') or float64 ('<f8')";
    // Only a plain string names a simple dtype; a list describes a structured dtype.
    const bool quoted = raw.size() >= 2 && (raw.front() == '\'' || raw.front() == '"') && raw.back() == raw.front();
    if (!quoted) {
        throw file_error(path, "dtype " + printable(raw) + " is not supported (not a simple dtype)" + kExpected);
    }
    const std::string_view descr = raw.substr(1, raw.size() - 2);
    // '=' and '|' mean native order, which the static_assert above pins to little-endian.
    constexpr std::pair<std::string_view, Dtype> kAccepted[] = {
        {"<f4", Dtype::f32}, {"=f4", Dtype::f32}, {"|f4", Dtype::f32},
        {"<f8", Dtype::f64}, {"=f8", Dtype::f64}, {"|f8", Dtype::f64},
    };
    for (const auto& [spelling, dtype] : kAccepted) {
        if (descr == spelling) return dtype;
    }
    if (descr == ">f4" || descr == ">f8") {
        const std::string little = "'<" + std::string(descr.substr(1)) + "'";
        throw file_error(path, "dtype '" + std::string(descr) + "' is big-endian, which is not supported; expected " +
                                   little + " (convert with arr.astype(" + little + "))");
    }
    throw file_error(path, "dtype '" + printable(descr) + "' is not supported" + kExpected);
}

void require_c_order(const fs::path& path, std::string_view raw) {
    if (raw == "False") return;
    if (raw == "True") {
        throw file_error(path, "fortran_order=True is not supported; save with C order (np.ascontiguousarray)");
    }
    throw file_error(path, "fortran_order is " + printable(raw) + "; expected False");
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

std::vector<std::size_t> parse_shape(const fs::path& path, std::string_view raw) {
    const auto invalid = [&](const std::string& problem) {
        return file_error(path, "shape " + printable(raw) + " is invalid (" + problem +
                                    "); expected a tuple of non-negative integers such as (2, 3)");
    };
    if (raw.size() < 2 || raw.front() != '(' || raw.back() != ')') throw invalid("not a parenthesised tuple");
    const std::string_view inner = raw.substr(1, raw.size() - 2);
    std::vector<std::size_t> shape;
    if (trim(inner).empty()) return shape;
    std::vector<std::string_view> items = split(inner, ',');
    if (items.size() > 1 && trim(items.back()).empty()) items.pop_back();  // Python allows one trailing comma
    for (const std::string_view item : items) {
        const std::string_view digits = trim(item);
        std::size_t dim = 0;
        const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), dim);
        if (status == std::errc::result_out_of_range) {
            throw invalid("entry " + printable(digits) + " overflows 64 bits");
        }
        if (status != std::errc{} || end != digits.data() + digits.size()) {
            throw invalid("entry '" + printable(digits) + "' is not a non-negative integer");
        }
        shape.push_back(dim);
    }
    return shape;
}

NpyHeader parse_header(const fs::path& path, std::string_view text) {
    const auto entries = HeaderDictParser(path, text).parse();
    const auto field = [&](const std::string& key) {
        const auto it = entries.find(key);
        if (it == entries.end()) {
            throw file_error(
                path, "header dict has no '" + key +
                          "' key; expected 'descr', 'fortran_order' and 'shape', found: " + printable(trim(text)));
        }
        return it->second;
    };
    NpyHeader header{parse_descr(path, field("descr")), {}, 0};
    require_c_order(path, field("fortran_order"));
    header.shape = parse_shape(path, field("shape"));
    // numpy itself rejects extra keys, so a file carrying them was not written by np.save.
    for (const auto& [key, value] : entries) {
        if (key != "descr" && key != "fortran_order" && key != "shape") {
            throw file_error(path, "header dict has unexpected key '" + printable(key) +
                                       "'; expected only 'descr', 'fortran_order' and 'shape'");
        }
    }
    return header;
}

// Checks the declared data size against the bytes actually present, before anything is allocated.
std::uint64_t checked_data_bytes(const fs::path& path, const NpyHeader& header, std::uint64_t available) {
    const std::string declared = "header declares " + describe(header.shape, header.dtype);
    const auto bytes = byte_size(header.shape, itemsize_of(header.dtype));
    if (!bytes) throw file_error(path, declared + ", whose byte size overflows 64 bits");
    const std::string sizes = declared + " = " + std::to_string(*bytes) + " bytes";
    if (*bytes > kMaxDataBytes) {
        throw file_error(path, sizes + ", above the 2^40-byte (1 TiB) limit; the header is corrupt");
    }
    if (*bytes > available) {
        throw file_error(path, "data truncated: " + sizes + " but the file holds only " + std::to_string(available) +
                                   " bytes after the header");
    }
    if (*bytes < available) {
        throw file_error(path, "trailing data: " + sizes + " but the file holds " + std::to_string(available) +
                                   " bytes after the header (" + std::to_string(available - *bytes) +
                                   " extra); the file is corrupt");
    }
    return *bytes;
}

// ---------------------------------------------------------------------------------------------
// Writing

// Header length (dict + space padding + '\n') that makes the whole preamble a multiple of 64 bytes.
std::size_t padded_header_length(std::size_t dict_size, std::size_t length_bytes) {
    const std::size_t prefix = kMagicAndVersionBytes + length_bytes;
    const std::size_t unpadded = prefix + dict_size + 1;
    return (unpadded + kAlign - 1) / kAlign * kAlign - prefix;
}

std::string preamble_for(const NpyArray& array) {
    const std::string dict = std::string("{'descr': '") + (array.dtype == Dtype::f32 ? "<f4" : "<f8") +
                             "', 'fortran_order': False, 'shape': " + shape_repr(array.shape) + ", }";
    // Version 1.0 has a 2-byte header length; numpy moves to 2.0 (4 bytes) only when that overflows.
    const bool fits_v1 = padded_header_length(dict.size(), 2) <= 0xFFFF;
    const std::size_t length_bytes = fits_v1 ? 2 : 4;
    const std::size_t header_length = padded_header_length(dict.size(), length_bytes);
    std::string out(kMagic);
    out += static_cast<char>(fits_v1 ? 1 : 2);
    out += '\0';
    for (std::size_t i = 0; i < length_bytes; ++i) out += static_cast<char>((header_length >> (8 * i)) & 0xFF);
    out += dict;
    out.append(header_length - dict.size() - 1, ' ');
    out += '\n';
    return out;
}

// Converts stored values to T; memcpy because the bytes carry no alignment guarantee for Stored.
template <class Stored, class T>
void decode(const std::vector<std::byte>& bytes, T* out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        Stored value;
        std::memcpy(&value, bytes.data() + i * sizeof(Stored), sizeof(Stored));
        out[i] = static_cast<T>(value);
    }
}

// Reads and validates the preamble; `in` is left at the first data byte.
NpyHeader read_header(RegularFile& in, const fs::path& path) {
    const Preamble preamble = read_preamble(in, path);
    NpyHeader header = parse_header(path, preamble.header);
    header.data_bytes = checked_data_bytes(path, header, in.size() - preamble.size);
    return header;
}

}  // namespace

std::size_t NpyArray::size() const {
    std::size_t count = 1;
    for (const std::size_t dim : shape) count *= dim;
    return count;
}

std::size_t NpyArray::itemsize() const { return itemsize_of(dtype); }

template <class T>
xt::xarray<T> NpyArray::to_xarray() const {
    require_consistent(*this, "to_xarray: ");
    auto result = xt::xarray<T>::from_shape(shape);
    if (dtype == Dtype::f32) {
        decode<float>(data, result.data(), result.size());
    } else {
        decode<double>(data, result.data(), result.size());
    }
    return result;
}

template <class T>
void NpyArray::copy_finite_to(T* out, const std::string& where) const {
    require_consistent(*this, "copy_finite_to: ");
    const std::size_t count = size();
    if (dtype == Dtype::f32) {
        decode<float>(data, out, count);
    } else {
        decode<double>(data, out, count);
    }
    const T* bad = std::find_if(out, out + count, [](T value) { return !std::isfinite(value); });
    if (bad == out + count) return;
    const std::size_t index = static_cast<std::size_t>(bad - out);
    double stored = 0;  // as in the file: a finite float64 that became inf in float32 is out of range
    if (dtype == Dtype::f32) {
        float single = 0;
        std::memcpy(&single, data.data() + index * sizeof(float), sizeof(float));
        stored = single;
    } else {
        std::memcpy(&stored, data.data() + index * sizeof(double), sizeof(double));
    }
    char value[32];
    std::snprintf(value, sizeof value, "%.6g", stored);
    throw Error(where + ": element " + std::to_string(index) + " is " + value +
                (std::isfinite(stored) ? ", beyond float32's range; inputs must be finite in float32"
                                       : "; inputs must be finite"));
}

template <class T>
xt::xarray<T> NpyArray::to_finite_xarray(const std::string& where) const {
    auto result = xt::xarray<T>::from_shape(shape);
    copy_finite_to(result.data(), where);
    return result;
}

template xt::xarray<float> NpyArray::to_xarray<float>() const;
template xt::xarray<double> NpyArray::to_xarray<double>() const;
template void NpyArray::copy_finite_to<float>(float*, const std::string&) const;
template void NpyArray::copy_finite_to<double>(double*, const std::string&) const;
template xt::xarray<float> NpyArray::to_finite_xarray<float>(const std::string&) const;
template xt::xarray<double> NpyArray::to_finite_xarray<double>(const std::string&) const;

template <class T>
NpyArray make_npy(const xt::xarray<T>& a) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "make_npy supports float and double");
    NpyArray array;
    array.dtype = std::is_same_v<T, float> ? Dtype::f32 : Dtype::f64;
    array.shape.assign(a.shape().begin(), a.shape().end());
    array.data.resize(a.size() * sizeof(T));
    std::copy_n(reinterpret_cast<const std::byte*>(a.data()), array.data.size(), array.data.begin());
    return array;
}

template NpyArray make_npy<float>(const xt::xarray<float>& a);
template NpyArray make_npy<double>(const xt::xarray<double>& a);

std::size_t NpyHeader::size() const { return checked_product(shape).value_or(0); }

NpyHeader read_npy_header(const fs::path& path) {
    RegularFile in(path);
    return read_header(in, path);
}

NpyArray read_npy(const fs::path& path) {
    RegularFile in(path);
    NpyHeader header = read_header(in, path);
    NpyArray array{header.dtype, std::move(header.shape), std::vector<std::byte>(header.data_bytes)};
    in.read(array.data.data(), header.data_bytes, "the array data");
    return array;
}

void write_npy(const fs::path& path, const NpyArray& array) {
    require_consistent(array, path.string() + ": cannot write: ");
    const std::string preamble = preamble_for(array);
    write_output_file(path, {preamble, std::string_view(reinterpret_cast<const char*>(array.data.data()),
                                                            array.data.size())});
}

}  // namespace trikv
