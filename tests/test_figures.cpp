// The study figures (studies/figures/figures.cpp, studies/figures/, studies/figures/gnuplot/) and the
// exactness rule and fronts they draw (studies/results/pareto.cpp).
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "caches/registry.hpp"
#include "figure_checks.hpp"
#include "framework/error.hpp"
#include "studies/figures/figures.hpp"
#include "studies/results/pareto.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using trikv::ResultRow;
using namespace figure_checks;

namespace {

std::size_t lines_of(const std::string& text) { return std::size_t(std::count(text.begin(), text.end(), '\n')); }

ResultRow row(const std::string& cache, std::size_t n, double ms, double bytes, bool exact = true, double error = 1e-7) {
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

// product (two-cache), factor fused and recompute (four-cache) at three n; optionally an
// approximate window and int8 factor storage at n = 512; always one failed row (not drawn).
std::vector<ResultRow> study_rows(bool approximate) {
    std::vector<ResultRow> rows;
    for (std::size_t n : {128, 256, 512}) {
        const double nd = double(n) * 64, scale = double(n) / 128;
        rows.push_back(row("product:dtype=f32", n, 0.02 * scale * scale, 2 * nd * double(n) * 4));
        rows.push_back(row("factor:strategy=fused,dtype=f32", n, 0.03 * scale * scale, 4 * nd * 4));
        rows.push_back(row("factor:strategy=recompute,dtype=f32", n, 0.2 * scale * scale * scale, 4 * nd * 4));
    }
    if (approximate) {
        rows.push_back(row("window:w1=32,w2=32", 512, 0.05, 40000, false, 0.03));
        // Reduced-precision storage: the writer records it as approximate (is_exact).
        rows.push_back(row("factor:strategy=fused,dtype=int8", 512, 0.4, 40000, false, 2e-3));
    }
    ResultRow failed = row("window:w1=64,w2=64", 512, 1, 1);
    failed.status = trikv::PointStatus::failed;
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

bool noted(const trikv::FigureReport& report, const std::string& start) {
    return std::any_of(report.notes.begin(), report.notes.end(),
                       [&](const std::string& note) { return note.rfind(start, 0) == 0; });
}

}  // namespace

bool exact_spec(const std::string& spec) { return trikv::is_exact(trikv::parse_cache_spec(spec)); }

TEST_CASE("reduced-precision storage counts as approximate", "[figures][pareto]") {
    CHECK(exact_spec("factor:strategy=fused,dtype=f32"));
    CHECK(exact_spec("product:dtype=f32"));
    CHECK(exact_spec("product"));  // the default dtype is f32
    for (const std::string dtype : {"int8", "fp16", "bf16"}) {
        CHECK_FALSE(exact_spec("factor:strategy=fused,dtype=" + dtype));
        CHECK_FALSE(exact_spec("product:dtype=" + dtype));
        // A built cache answers the same, from its type and parameters.
        CHECK_FALSE(trikv::make_cache("product:dtype=" + dtype, {.heads = 1, .dim = 8})->exact());
    }
    CHECK(trikv::make_cache("factor", {.heads = 1, .dim = 8})->exact());
    CHECK_FALSE(exact_spec("window:w1=8,w2=8"));
    CHECK_FALSE(trikv::make_cache("window:w1=8,w2=8", {.heads = 1, .dim = 8})->exact());

    // An int8 cache fast and small with a small error is not on the exact front; it makes an
    // approximate front, with everything else there.
    const std::vector<ResultRow> rows = {row("product:dtype=f32", 8, 2, 100),
                                         row("product:dtype=int8", 8, 1, 30, false, 5e-5)};
    std::vector<std::string> exact, approximate;
    for (const auto& p : trikv::pareto_fronts(rows))
        (p.front == "exact" ? exact : approximate).push_back(rows[p.index].cache);
    CHECK(exact == std::vector<std::string>{"product:dtype=f32"});
    CHECK(approximate == std::vector<std::string>{"product:dtype=int8"});
}

TEST_CASE("float32 rounding does not decide the approximate front", "[figures][pareto]") {
    // Equal time and memory, errors that differ only by rounding: a tie, the first kept, in
    // either order (without the tolerance, the smaller rounding error would win).
    for (const bool smaller_first : {true, false}) {
        std::vector<ResultRow> rows = {row("a", 8, 1, 10, true, 1e-7), row("b", 8, 1, 10, true, 9e-7)};
        if (!smaller_first) std::swap(rows[0], rows[1]);
        CHECK(trikv::time_memory_error_front(rows) == std::vector<std::size_t>{0});
    }
    // An error above the tolerance still counts.
    const std::vector<ResultRow> rows = {row("a", 8, 1, 10, false, 0.2), row("b", 8, 1, 10, false, 0.1)};
    CHECK(trikv::time_memory_error_front(rows) == std::vector<std::size_t>{1});
}

TEST_CASE("write_figures writes data, scripts, the style and renderings", "[figures]") {
    TempDir dir("all");
    const auto report = trikv::write_figures(dir.path, study_rows(true), {"pareto", "scaling", "error"});
    for (const std::string file : {"pareto.csv", "pareto.gp", "scaling.csv", "scaling.gp", "error.csv", "error.gp",
                                   "error-n.gp", "gnuplot/trikv.gp", "gnuplot/pareto.gp", "gnuplot/error-n.gp",
                                   "gnuplot/error-axes.gp"}) {
        INFO(file);
        CHECK(written(report, dir.path / file));
    }
    CHECK(written(report, dir.path / "error-n.csv"));

    // pareto.csv: a point per series, data and n; panels by n, the smallest and largest (256 is
    // in panel 0, not drawn). Each panel's exact front first (by memory), then the other points.
    // At n = 512 factor fused (small) and product (fast) make the front; recompute is dominated.
    const std::string pareto = slurp(dir.path / "pareto.csv");
    CHECK(lines_of(pareto) == 1 + 11);
    CHECK(pareto.rfind("series,data,panel,class,front,n,d,heads,instances,bytes,step_ms,step_ms_low,step_ms_high,"
                       "error,error_low,error_high,label\n2,1,1,0,1,128,", 0) == 0);
    CHECK_THAT(pareto, Contains("2,1,2,0,1,512,64,1,1,524288,0.48,0.48,0.48,1e-07,1e-07,1e-07,\"factor:strategy=fused,dtype=f32\"\n"
                                "1,1,2,0,1,512,64,1,1,134217728,0.32,0.32,0.32,1e-07,1e-07,1e-07,product\n"));
    CHECK_THAT(pareto, Contains("3,1,2,1,0,512,64,1,1,524288,12.8,"));   // recompute: dominated
    CHECK_THAT(pareto, Contains("5,1,2,2,0,512,64,1,1,40000,0.05,0.05,0.05,0.03,"));  // window: approximate
    CHECK_THAT(pareto, Contains("4,1,2,2,0,512,64,1,1,40000,0.4,0.4,0.4,0.002,"));    // int8: approximate
    CHECK_THAT(pareto, Contains("1,1,0,1,0,256,"));  // n = 256: no panel
    CHECK(pareto.find("w1=64") == std::string::npos);  // the failed row

    // The generated script: only data-dependent settings, then the template.
    const std::string script = slurp(dir.path / "pareto.gp");
    CHECK_THAT(script, Contains("SUBTITLE = 'd = 64, 1 head, gaussian data, scale 1/d'"));
    // Labels show every parameter that differs between series of a type, and those off their defaults.
    CHECK_THAT(script, Contains("array LABEL[5] = ['product', 'factor:strategy=fused,dtype=f32', "
                                "'factor:strategy=recompute,dtype=f32', 'factor:strategy=fused,dtype=int8', "
                                "'window:w1=32,w2=32']"));
    CHECK_THAT(script, Contains("array PANEL_TITLE[2] = ['gaussian, n = 128', 'gaussian, n = 512']"));
    CHECK_THAT(script, Contains("COLUMNS = 1\nROWS = 2\nHAS_DOMINATED = 1"));
    CHECK_THAT(script, Contains("load STYLE_DIR . '/pareto.gp'"));
    CHECK(script.find("set key") == std::string::npos);  // the key is the style's business
    CHECK(noted(report, "pareto figure: panels at n = 128, 512"));
    // Slopes from three n or more only, and the key's title names the n fitted.
    const std::string scaling = slurp(dir.path / "scaling.gp");
    CHECK_THAT(scaling, Contains("'factor:strategy=recompute,dtype=f32 (slopes 3.00, 1.00)'"));
    CHECK_THAT(scaling, Contains("'window:w1=32,w2=32'"));  // one n: no slopes
    CHECK_THAT(scaling, Contains("fitted over n = 128–512)'"));
    CHECK_THAT(scaling, Contains("array NVALUES[3] = [128, 256, 512]"));  // ticks at the n measured

    // error.csv: approximate rows class 0, exact ones class 1 (reference points); each panel's
    // approximate front first: int8 beats the window at the same memory.
    const std::string error = slurp(dir.path / "error.csv");
    CHECK(lines_of(error) == 1 + 11);
    CHECK_THAT(error, Contains("4,1,2,0,1,512,64,1,1,40000,0.4,0.4,0.4,0.002,"));
    CHECK_THAT(error, Contains("5,1,2,0,0,512,64,1,1,40000,0.05,0.05,0.05,0.03,0.03,0.03,\"window:w1=32,w2=32\"\n"));
    CHECK_THAT(error, Contains("2,1,1,1,0,128,64,1,1,131072,"));  // factor fused: exact, a reference
    CHECK_THAT(slurp(dir.path / "error.gp"), Contains("ERROR_METRIC = 'worst'"));  // rows without positions
    CHECK_THAT(slurp(dir.path / "error-n.gp"),
               Contains("array LABEL[5] = ['', '', '', 'factor:strategy=fused,dtype=int8', 'window:w1=32,w2=32']"));

    if (!on_path("gnuplot")) {
        WARN("gnuplot is not on PATH: renderings not checked");
        return;
    }
    for (const std::string name : {"pareto", "scaling", "error", "error-n"})
        for (const std::string format : {"png", "pdf", "svg", "tex"}) {
            INFO(name + "." + format);
            CHECK(written(report, dir.path / (name + "." + format)));
            CHECK(fs::file_size(dir.path / (name + "." + format)) > 0);
        }
    CHECK(slurp(dir.path / "pareto.png").rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(slurp(dir.path / "scaling.pdf").rfind("%PDF", 0) == 0);
    for (const auto& entry : fs::directory_iterator(dir.path))  // no temporary left behind
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);

    // A script reruns from anywhere, with another format and output name, beside itself.
    const std::string rerun =
        "cd / && gnuplot -e \"fmt='svg'; out='rerun.svg'\" '" + (dir.path / "pareto.gp").string() + "'";
    REQUIRE(std::system(rerun.c_str()) == 0);
    CHECK(fs::file_size(dir.path / "rerun.svg") > 0);
}

TEST_CASE("the pareto key lists dominated points only when there are some", "[figures]") {
    TempDir dir("dominated");
    ScopedPath path("/nonexistent");  // the scripts are enough
    std::vector<ResultRow> rows = {row("product:dtype=f32", 64, 1, 1000),
                                   row("factor:strategy=fused,dtype=f32", 64, 2, 10)};
    trikv::write_figures(dir.path, rows, {"pareto"});
    CHECK_THAT(slurp(dir.path / "pareto.gp"), Contains("HAS_DOMINATED = 0"));
    rows.push_back(row("factor:strategy=recompute,dtype=f32", 64, 3, 10));
    trikv::write_figures(dir.path, rows, {"pareto"});
    CHECK_THAT(slurp(dir.path / "pareto.gp"), Contains("HAS_DOMINATED = 1"));
}

namespace {

// 14 series: every type with several parameter settings, two n each.
std::vector<ResultRow> many_series_rows() {
    const std::vector<std::string> specs = {
        "product:dtype=f32",         "product:dtype=bf16",          "product:dtype=int8",
        "factor:strategy=fused,dtype=f32", "factor:strategy=recompute,dtype=f32", "factor:strategy=fused,dtype=fp16",
        "window:w1=128,w2=128",      "window:w1=64,w2=32",          "hybrid:window=64",
        "hybrid:window=32",          "subgen2:delta=0.5,samples=8,values=64,seed=0",
        "subgen4:delta=0.5,samples=16,values=256,seed=0", "sparse-factor", "matrix"};
    std::vector<ResultRow> rows;
    for (std::size_t k = 0; k < specs.size(); ++k)
        for (std::size_t n : {256, 512}) {
            const bool exact = exact_spec(specs[k]);
            rows.push_back(row(specs[k], n, 0.01 * double(k + 1) * double(n), 1000.0 * double(k + 1) * double(n), exact,
                               exact ? 1e-7 : 1e-3 * double(k)));
        }
    return rows;
}

}  // namespace

TEST_CASE("every series is in the key of every format, nothing clipped", "[figures]") {
    if (!on_path("gnuplot")) {
        WARN("gnuplot is not on PATH: renderings not checked");
        return;
    }
    TempDir dir("keys");
    trikv::write_figures(dir.path, many_series_rows(), {"pareto", "scaling"});
    const std::string script = slurp(dir.path / "pareto.gp");
    const std::size_t start = script.find("array LABEL[14] = ['"), end = script.find("']\n", start);
    REQUIRE(start != std::string::npos);
    std::vector<std::string> labels;  // of the pareto figure, from its generated script
    std::string list = script.substr(start + 20, end - start - 20);
    for (std::size_t cut; (cut = list.find("', '")) != std::string::npos; list.erase(0, cut + 4))
        labels.push_back(list.substr(0, cut));
    labels.push_back(list);
    REQUIRE(labels.size() == 14);
    // Labels show what differs between series, also where it is the default.
    CHECK(labels[0] == "product:dtype=f32");
    CHECK(labels[3] == "factor:strategy=fused,dtype=f32");
    CHECK(labels[4] == "factor:strategy=recompute,dtype=f32");
    CHECK(labels[6] == "window:w1=128,w2=128");
    CHECK(labels[9] == "hybrid:window=32");

    const std::string svg = slurp(dir.path / "pareto.svg"), tex = slurp(dir.path / "pareto.tex");
    for (const std::string& label : labels) {
        INFO(label);
        CHECK_THAT(svg, Contains(">" + label + "</text>"));
        CHECK_THAT(tex, Contains("{" + label + "}"));
    }
    if (!on_path("pdftotext")) {
        WARN("pdftotext (poppler-utils) is not on PATH: the pdf and png keys are not checked");
        return;
    }
    // The pdf (cairo, as the png) has every label's words, each inside the page, and no two
    // words of the key overlap.
    for (const std::string figure : {"pareto", "scaling"}) {
        INFO(figure);
        const auto [page, found] = pdf_words(dir.path / (figure + ".pdf"), dir.path / (figure + ".html"));
        std::vector<Word> key;
        for (const std::string& label : labels)
            for (const std::string& word : words(label)) {
                INFO(word);
                const auto it = std::find_if(found.begin(), found.end(), [&](const Word& w) {
                    return w.text == word && std::none_of(key.begin(), key.end(), [&](const Word& k) {
                               return k.x0 == w.x0 && k.y0 == w.y0;
                           });
                });
                REQUIRE(it != found.end());
                CHECK((it->x0 >= 0 && it->y0 >= 0 && it->x1 <= page.x1 && it->y1 <= page.y1));
                key.push_back(*it);
            }
        for (std::size_t a = 0; a < key.size(); ++a)
            for (std::size_t b = a + 1; b < key.size(); ++b) {
                INFO(key[a].text + " / " + key[b].text);
                CHECK_FALSE(
                    (key[a].x0 < key[b].x1 && key[b].x0 < key[a].x1 && key[a].y0 < key[b].y1 && key[b].y0 < key[a].y1));
            }
    }
}

TEST_CASE("write_figures draws no error figures without approximate rows", "[figures]") {
    TempDir dir("exact");
    const auto report = trikv::write_figures(dir.path, study_rows(false), {"error", "pareto"});
    CHECK_FALSE(fs::exists(dir.path / "error.csv"));
    CHECK_FALSE(fs::exists(dir.path / "error-n.gp"));
    CHECK(fs::exists(dir.path / "pareto.csv"));
    CHECK_FALSE(fs::exists(dir.path / "scaling.csv"));  // not asked for
    CHECK(noted(report, "no error figures"));
}

TEST_CASE("write_figures without gnuplot writes the data and scripts only", "[figures]") {
    TempDir dir("nognuplot");
    trikv::FigureReport report;
    {
        ScopedPath path("/nonexistent");
        report = trikv::write_figures(dir.path, study_rows(true), {"scaling"});
    }
    CHECK(report.files == std::vector<fs::path>{dir.path / "scaling.csv", dir.path / "scaling.gp",
                                                dir.path / "gnuplot/trikv.gp", dir.path / "gnuplot/scaling.gp"});
    CHECK_FALSE(fs::exists(dir.path / "scaling.png"));
    CHECK(std::any_of(report.notes.begin(), report.notes.end(),
                      [](const std::string& note) { return note.find("gnuplot is not on PATH") != std::string::npos; }));
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
                rows.push_back(row("product:dtype=f32", n, product_ms, 2.0 * double(n * n) * 64 * 4));
                rows.push_back(row("sparse-factor", n, double(s) / 8, 6.0 * double(s * n)));
                rows[rows.size() - 2].data = rows.back().data = data;
            }
    return rows;
}

}  // namespace

TEST_CASE("the sparsity figure draws time and memory vs s at the largest n", "[figures]") {
    TempDir dir("sparsity");
    const auto report = trikv::write_figures(dir.path, sparse_rows(), {"sparsity"});
    for (const std::string ext : {".csv", ".gp"}) REQUIRE(written(report, dir.path / ("sparsity" + ext)));
    CHECK(noted(report, "sparsity figure at the largest n = 512"));

    // Series: product (one dense reference for both supports), then sparse-factor per support.
    const std::string csv = slurp(dir.path / "sparsity.csv");
    CHECK(lines_of(csv) == 1 + 6 + 1 + 6);
    CHECK(csv.find(",256,") == std::string::npos);  // only the largest n
    CHECK_THAT(csv, Contains("point,2,16,random,512,2,49152,sparse-factor,\"sparse-factor, random support\"\n"));
    CHECK_THAT(csv, Contains("point,3,4,blocks,512,0.5,12288,"));
    // product's times at n = 512 are 1, 2, ..., 6 ms: median 3.5; its memory 2·512²·64·4 bytes.
    CHECK_THAT(csv, Contains("reference,1,,,512,3.5,134217728,product:dtype=f32,product (dense)\n"));

    const std::string gp = slurp(dir.path / "sparsity.gp");
    CHECK_THAT(gp, Contains("'sparse-factor, blocks support (slopes 1.00, 1.00)'"));  // time ∝ s, memory ∝ s
    CHECK_THAT(gp, Contains("'product (dense)'"));
    CHECK_THAT(gp, Contains("array DENSE[3] = [1, 0, 0]"));
    CHECK_THAT(gp, Contains("(n = 512)"));

    // Other figures name sparse data briefly in their labels; two n fit no slopes.
    trikv::write_figures(dir.path, sparse_rows(), {"scaling"});
    CHECK_THAT(slurp(dir.path / "scaling.gp"), Contains("'sparse-factor, s=16 blocks'"));
    CHECK_THAT(slurp(dir.path / "scaling.gp"), Contains("array PANEL_TITLE[1] = ['sparse']"));
    CHECK(slurp(dir.path / "scaling.gp").find("slopes") == std::string::npos);

    // Whole VAR generations on sparse data draw var-sparsity.
    std::vector<ResultRow> var = sparse_rows();
    for (ResultRow& r : var) r.workload = trikv::Workload::var;
    trikv::write_figures(dir.path, var, {"sparsity"});
    CHECK(lines_of(slurp(dir.path / "var-sparsity.csv")) == 1 + 6 + 1 + 6);
    CHECK_THAT(slurp(dir.path / "var-sparsity.gp"), Contains("(512 tokens)"));
}

TEST_CASE("the sparsity figure is not drawn, with a note, without a sweep over s", "[figures]") {
    TempDir dir("nosparsity");
    SECTION("dense data") {
        const auto report = trikv::write_figures(dir.path, study_rows(false), {"sparsity"});
        CHECK(noted(report, "no sparsity figure"));
    }
    SECTION("a single s") {
        std::vector<ResultRow> rows = sparse_rows();
        std::erase_if(rows, [](const ResultRow& r) { return r.data.find("s=4,") == std::string::npos; });
        REQUIRE(rows.size() == 8);
        const auto report = trikv::write_figures(dir.path, rows, {"sparsity"});
        CHECK(noted(report, "no sparsity figure"));
    }
    CHECK_FALSE(fs::exists(dir.path / "sparsity.csv"));
    CHECK_FALSE(fs::exists(dir.path / "sparsity.gp"));
}
