#pragma once
// What the figure tests read back from renderings: a scratch directory, the words of a PDF with
// their boxes (pdftotext -bbox), and the pixels of a PNG (libpng, where the build found it).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifdef TRIKV_TESTS_HAVE_PNG
#include <png.h>
#endif

namespace figure_checks {

namespace fs = std::filesystem;

// A fresh directory (with a space in its name: paths must be quoted) removed at scope exit.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& tag)
        : path(fs::temp_directory_path() / ("trikv figures " + tag + "." + std::to_string(::getpid()))) {
        fs::remove_all(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

inline std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline bool on_path(const std::string& program) {
    return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

inline std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

// A word pdftotext -bbox found, in points from the page's top left.
struct Word {
    std::string text;
    double x0, y0, x1, y1;
};

inline double attribute(const std::string& tag, const std::string& name) {
    const std::size_t at = tag.find(name + "=\"");
    return at == std::string::npos ? -1 : std::stod(tag.substr(at + name.size() + 2));
}

// pdftotext's HTML spells &, <, > and " as entities.
inline std::string unescape_html(std::string text) {
    for (const auto& [entity, plain] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"},
                                        {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}})
        for (std::size_t at; (at = text.find(entity)) != std::string::npos;) text.replace(at, entity.size(), plain);
    return text;
}

// The page size and the words of a one-page pdf.
inline std::pair<Word, std::vector<Word>> pdf_words(const fs::path& pdf, const fs::path& html) {
    REQUIRE(std::system(("pdftotext -bbox '" + pdf.string() + "' '" + html.string() + "'").c_str()) == 0);
    const std::string text = slurp(html);
    const std::size_t page = text.find("<page ");
    REQUIRE(page != std::string::npos);
    const std::string page_tag = text.substr(page, text.find('>', page) - page);
    Word size{"page", 0, 0, attribute(page_tag, "width"), attribute(page_tag, "height")};
    std::vector<Word> found;
    for (std::size_t at = text.find("<word "); at != std::string::npos; at = text.find("<word ", at + 1)) {
        const std::size_t close = text.find('>', at), end = text.find("</word>", close);
        const std::string tag = text.substr(at, close - at);
        found.push_back({unescape_html(text.substr(close + 1, end - close - 1)), attribute(tag, "xMin"),
                         attribute(tag, "yMin"), attribute(tag, "xMax"), attribute(tag, "yMax")});
    }
    return {size, found};
}

// An image as 8-bit grey levels (0 black, 255 white), row by row.
struct Grey {
    std::size_t width = 0, height = 0;
    std::vector<std::uint8_t> pixels;
    // Pixels darker than `level` inside [x0, x1) × [y0, y1), clipped to the image.
    std::size_t dark(double x0, double y0, double x1, double y1, int level = 160) const {
        std::size_t count = 0;
        for (std::size_t y = std::size_t(std::max(0.0, y0)); y < std::min<std::size_t>(height, std::size_t(y1)); ++y)
            for (std::size_t x = std::size_t(std::max(0.0, x0)); x < std::min<std::size_t>(width, std::size_t(x1)); ++x)
                count += pixels[y * width + x] < level;
        return count;
    }
};

#ifdef TRIKV_TESTS_HAVE_PNG
inline Grey read_png(const fs::path& path) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    REQUIRE(png_image_begin_read_from_file(&image, path.c_str()) != 0);
    image.format = PNG_FORMAT_GRAY;  // composed on white: cairo's pngs are opaque
    Grey grey{image.width, image.height, std::vector<std::uint8_t>(PNG_IMAGE_SIZE(image))};
    REQUIRE(png_image_finish_read(&image, nullptr, grey.pixels.data(), 0, nullptr) != 0);
    return grey;
}
#endif

}  // namespace figure_checks
