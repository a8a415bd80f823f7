#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "framework/error.hpp"
#include "studies/figures.hpp"

namespace fs = std::filesystem;
using trikv::ResultRow;

namespace {

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

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t lines_of(const std::string& text) { return std::size_t(std::count(text.begin(), text.end(), '\n')); }

bool gnuplot_on_path() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

ResultRow row(const std::string& cache, std::size_t n, double ms, double bytes, bool exact = true,
              double error = 1e-7) {
    ResultRow r;
    r.cache = cache;
    r.cache_type = cache.substr(0, cache.find(':'));
    r.exact = exact;
    r.n = n;
    r.d = 64;
    r.heads = 1;
    r.step_ms_median = ms;
    r.bytes = bytes;
    r.rel_l2_error = error;
    return r;
}

// product (two-cache), factor fused and recompute (four-cache) at three n; optionally one
// approximate row and one failed row (which must not be drawn).
std::vector<ResultRow> study_rows(bool approximate) {
    std::vector<ResultRow> rows;
    for (std::size_t n : {128, 256, 512}) {
        const double nd = double(n) * 64, scale = double(n) / 128;
        rows.push_back(row("product", n, 0.02 * scale * scale, 2 * nd * double(n) * 4));
        rows.push_back(row("factor:strategy=fused", n, 0.03 * scale * scale, 4 * nd * 4));
        rows.push_back(row("factor:strategy=recompute", n, 0.2 * scale * scale * scale, 4 * nd * 4));
    }
    if (approximate) rows.push_back(row("subgen4:budget=64,seed=1", 512, 0.05, 40000, false, 0.03));
    ResultRow failed = row("window:size=64", 512, 1, 1);
    failed.status = "failed";
    rows.push_back(failed);
    return rows;
}

// Sets PATH for the scope of a test.
struct ScopedPath {
    std::string saved;
    explicit ScopedPath(const std::string& path) {
        const char* old = std::getenv("PATH");
        saved = old ? old : "";
        ::setenv("PATH", path.c_str(), 1);
    }
    ~ScopedPath() { ::setenv("PATH", saved.c_str(), 1); }
};

bool written(const trikv::FigureReport& report, const fs::path& path) {
    return std::find(report.files.begin(), report.files.end(), path) != report.files.end();
}

}  // namespace

TEST_CASE("write_figures writes csv, gnuplot script and renderings", "[figures]") {
    TempDir dir("all");
    const auto report = trikv::write_figures(dir.path, study_rows(true), {"pareto", "scaling", "error"});

    for (const std::string name : {"pareto", "scaling", "error"})
        for (const std::string ext : {".csv", ".gp"}) {
            INFO(name + ext);
            REQUIRE(fs::exists(dir.path / (name + ext)));
            REQUIRE(written(report, dir.path / (name + ext)));
        }

    // pareto.csv: header, 10 ok points, a label for each n's front, two bounds for each n.
    const std::string pareto = slurp(dir.path / "pareto.csv");
    CHECK(lines_of(pareto) == 1 + 10 + 3 + 2 * 3);
    CHECK(pareto.find("front_label,,2,,512,64,1,") != std::string::npos);
    CHECK(pareto.find(",n=512\n") != std::string::npos);
    CHECK(pareto.find("window") == std::string::npos);                          // the failed row
    CHECK(pareto.find("\"subgen4:budget=64,seed=1\"") != std::string::npos);    // quoted: has a comma
    CHECK(pareto.find("bound_nd,,,,512,64,1,524288,") != std::string::npos);    // 4·512·64·4 bytes
    CHECK(pareto.find("bound_n2d,,,,128,64,1,8388608,") != std::string::npos);  // 2·128²·64·4 bytes
    // At n = 512 the product (fast, large) and factor fused (small) are on the front; recompute is not.
    CHECK(pareto.find(",1,512,64,1,524288,0.48,") != std::string::npos);
    CHECK(pareto.find(",0,512,64,1,524288,12.8,") != std::string::npos);

    // scaling.csv: header and the 10 points; time slopes 2 (product, fused) and 3 (recompute).
    const std::string scaling = slurp(dir.path / "scaling.csv");
    CHECK(lines_of(scaling) == 1 + 10);
    const std::string scaling_gp = slurp(dir.path / "scaling.gp");
    CHECK(scaling_gp.find("factor:strategy=recompute (slope 3.00)") != std::string::npos);
    // Labels leave out parameters at their defaults: factor:strategy=fused is "factor".
    CHECK(scaling_gp.find("factor (slope 2.00)") != std::string::npos);
    CHECK(scaling_gp.find("factor:strategy=fused") == std::string::npos);
    CHECK(scaling_gp.find("subgen4:budget=64,seed=1'") != std::string::npos);  // one n: no slope

    // error.csv: every point, the approximate one at its error.
    const std::string error = slurp(dir.path / "error.csv");
    CHECK(lines_of(error) == 1 + 10);
    CHECK(error.find(",0,512,64,1,40000,0.03,0.03,") != std::string::npos);

    // The script's output format is a variable.
    CHECK(slurp(dir.path / "pareto.gp").find("if (!exists(\"fmt\")) fmt = 'png'") != std::string::npos);

    if (!gnuplot_on_path()) {
        WARN("gnuplot is not on PATH: renderings not checked");
        return;
    }
    CHECK(report.files.size() == 3 * 6);
    for (const std::string name : {"pareto", "scaling", "error"})
        for (const std::string ext : {".png", ".pdf", ".svg", ".tex"}) {
            INFO(name + ext);
            REQUIRE(fs::exists(dir.path / (name + ext)));
            CHECK(fs::file_size(dir.path / (name + ext)) > 0);
            CHECK(written(report, dir.path / (name + ext)));
        }
    CHECK(slurp(dir.path / "pareto.png").rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(slurp(dir.path / "scaling.pdf").rfind("%PDF", 0) == 0);
    CHECK(slurp(dir.path / "error.svg").find("<svg") != std::string::npos);
    CHECK(slurp(dir.path / "pareto.tex").find("tikzpicture") != std::string::npos);
    for (const auto& entry : fs::directory_iterator(dir.path))  // no temporary left behind
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);

    // A script reruns from anywhere, with another format and output name, next to itself.
    const std::string rerun =
        "cd / && gnuplot -e \"fmt='svg'; out='rerun.svg'\" '" + (dir.path / "pareto.gp").string() + "'";
    REQUIRE(std::system(rerun.c_str()) == 0);
    CHECK(fs::file_size(dir.path / "rerun.svg") > 0);
}

TEST_CASE("write_figures skips the error figure without approximate rows", "[figures]") {
    TempDir dir("exact");
    const auto report = trikv::write_figures(dir.path, study_rows(false), {"error", "pareto"});
    CHECK_FALSE(fs::exists(dir.path / "error.csv"));
    CHECK_FALSE(fs::exists(dir.path / "error.gp"));
    CHECK(fs::exists(dir.path / "pareto.csv"));
    CHECK_FALSE(fs::exists(dir.path / "scaling.csv"));  // not asked for
    bool noted = false;
    for (const std::string& note : report.notes) noted = noted || note.rfind("error: skipped", 0) == 0;
    CHECK(noted);
}

TEST_CASE("write_figures without gnuplot writes the data and scripts only", "[figures]") {
    TempDir dir("nognuplot");
    trikv::FigureReport report;
    {
        ScopedPath path("/nonexistent");
        report = trikv::write_figures(dir.path, study_rows(true), {"scaling"});
    }
    CHECK(report.files == std::vector<fs::path>{dir.path / "scaling.csv", dir.path / "scaling.gp"});
    CHECK_FALSE(fs::exists(dir.path / "scaling.png"));
    bool noted = false;
    for (const std::string& note : report.notes)
        noted = noted || note.find("gnuplot is not on PATH") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("write_figures reports a gnuplot failure with gnuplot's message", "[figures]") {
    TempDir dir("failing");
    const fs::path bin = dir.path / "bin";
    fs::create_directories(bin);
    {  // a gnuplot that echoes the command and fails, as gnuplot does on a script error
        std::ofstream fake(bin / "gnuplot");
        fake << "#!/bin/sh\necho '   plot oops' >&2\necho '        ^' >&2\n"
                "echo '\"pareto.gp\" line 7: undefined variable: oops' >&2\nexit 1\n";
    }
    fs::permissions(bin / "gnuplot", fs::perms::owner_all);
    ScopedPath path(bin.string() + ":" + (std::getenv("PATH") ? std::getenv("PATH") : ""));
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(trikv::write_figures(dir.path / "out", study_rows(false), {"pareto"}),
                      Contains("figure 'pareto'") && Contains("pareto.png") && Contains("undefined variable: oops"));
    CHECK(fs::exists(dir.path / "out" / "pareto.gp"));  // the script is kept for debugging
    for (const auto& entry : fs::directory_iterator(dir.path / "out"))
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("write_figures rejects unknown figures", "[figures]") {
    TempDir dir("unknown");
    CHECK_THROWS_AS(trikv::write_figures(dir.path, study_rows(false), {"pie"}), trikv::Error);
}

namespace {

// A sparse sweep: s = 4, 8, 16 under both supports at n = 256 and 512; product (dense: the
// same bytes at every s, times 1..6 ms at n = 512) and sparse-factor (bytes 6·s·n, time s/8 ms).
std::vector<ResultRow> sparse_rows() {
    std::vector<ResultRow> rows;
    for (std::size_t n : {256, 512})
        for (const std::string support : {"random", "blocks"})
            for (std::size_t s : {4, 8, 16}) {
                const std::string data = "sparse(s=" + std::to_string(s) + ",support=" + support + ")";
                const double product_ms = double(rows.size() / 2 % 6 + 1);
                rows.push_back(row("product", n, product_ms, 2.0 * double(n * n) * 64 * 4));
                rows.push_back(row("sparse-factor", n, double(s) / 8, 6.0 * double(s * n)));
                rows[rows.size() - 2].data = rows.back().data = data;
            }
    return rows;
}

bool noted(const trikv::FigureReport& report, const std::string& start) {
    return std::any_of(report.notes.begin(), report.notes.end(),
                       [&](const std::string& note) { return note.rfind(start, 0) == 0; });
}

}  // namespace

TEST_CASE("the sparsity figure draws time and memory vs s at the largest n", "[figures]") {
    TempDir dir("sparsity");
    const auto report = trikv::write_figures(dir.path, sparse_rows(), {"sparsity"});
    for (const std::string ext : {".csv", ".gp"}) REQUIRE(written(report, dir.path / ("sparsity" + ext)));
    CHECK(noted(report, "sparsity: drawn at the largest n = 512; n = 256 are in results.csv"));

    // Series: sparse-factor under random then blocks support, then product as a dense reference.
    // Header, 6 sparse-factor points, 6 product points and product's reference at its median time.
    const std::string csv = slurp(dir.path / "sparsity.csv");
    CHECK(lines_of(csv) == 1 + 6 + 6 + 1);
    CHECK(csv.rfind("kind,series,dense,s,support,n,d,heads,step_ms,bytes,cache,label\n", 0) == 0);
    CHECK(csv.find(",256,") == std::string::npos);  // only the largest n
    CHECK(csv.find("point,0,0,16,random,512,64,1,2,49152,sparse-factor,\"sparse-factor, random support\"\n") !=
          std::string::npos);
    CHECK(csv.find("point,1,0,4,blocks,512,64,1,0.5,12288,") != std::string::npos);
    // product's times at n = 512 are 1, 2, ..., 6 ms: median 3.5; its memory 2·512²·64·4 bytes.
    CHECK(csv.find("reference,2,1,,,512,64,1,3.5,134217728,product,product (dense)\n") != std::string::npos);

    // Memory ∝ s and time ∝ s: slope 1 in both panels; the dense cache has no slope.
    const std::string gp = slurp(dir.path / "sparsity.gp");
    CHECK(gp.find("sparse-factor, blocks support (slope 1.00)") != std::string::npos);
    CHECK(gp.find("'product (dense)'") != std::string::npos);
    CHECK(gp.find("(of d = 64, n = 512)") != std::string::npos);
    // Each panel's key is a plot of its own (so that gnuplot never wraps it into extra columns).
    std::size_t keys = 0;
    for (std::size_t at = gp.find("plot NaN notitle"); at != std::string::npos; at = gp.find("plot NaN notitle", at + 1))
        ++keys;
    CHECK(keys == 2);

    // Other figures name sparse data briefly in their keys.
    trikv::write_figures(dir.path, sparse_rows(), {"scaling"});
    const std::string scaling_gp = slurp(dir.path / "scaling.gp");
    CHECK(scaling_gp.find("'sparse-factor, s=16 blocks (slope 1.00)'") != std::string::npos);
    CHECK(scaling_gp.find("support=") == std::string::npos);

    // Whole VAR generations on sparse data draw var-sparsity.
    std::vector<ResultRow> var = sparse_rows();
    for (ResultRow& r : var) r.workload = "var";
    trikv::write_figures(dir.path, var, {"sparsity"});
    CHECK(lines_of(slurp(dir.path / "var-sparsity.csv")) == 1 + 6 + 6 + 1);
    CHECK(slurp(dir.path / "var-sparsity.gp").find("(of d = 64, 512 tokens)") != std::string::npos);

    if (!gnuplot_on_path()) return;
    for (const std::string ext : {".png", ".pdf", ".svg", ".tex"}) {
        INFO(ext);
        CHECK(written(report, dir.path / ("sparsity" + ext)));
        CHECK(fs::file_size(dir.path / ("sparsity" + ext)) > 0);
    }
}

TEST_CASE("the sparsity figure is skipped, with a note, without a sweep over s", "[figures]") {
    TempDir dir("nosparsity");
    SECTION("dense data") {
        const auto report = trikv::write_figures(dir.path, study_rows(false), {"sparsity"});
        CHECK(noted(report, "sparsity: skipped: needs sparse data"));
    }
    SECTION("a single s") {
        std::vector<ResultRow> rows = sparse_rows();
        std::erase_if(rows, [](const ResultRow& r) { return r.data.find("s=4,") == std::string::npos; });
        REQUIRE(rows.size() == 8);
        const auto report = trikv::write_figures(dir.path, rows, {"sparsity"});
        CHECK(noted(report, "sparsity: skipped: needs sparse data"));
    }
    CHECK_FALSE(fs::exists(dir.path / "sparsity.csv"));
    CHECK_FALSE(fs::exists(dir.path / "sparsity.gp"));
}
