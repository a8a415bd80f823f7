// The figures under stress (docs/studies.md, Figures): 64 series, 120-character cache specs,
// absolute paths with non-ASCII characters and commas in data names, two data kinds with four
// instances each, three n. For every figure and format: every series' label is rendered where
// the key is (PDF: pdftotext; PNG: ink where the PDF has the words, and none there when the
// same figure is drawn without its key), nothing lies outside the canvas, the page stays
// printable, and no absolute path is written into a figure.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "caches/registry.hpp"
#include "figure_checks.hpp"
#include "studies/figures/figures.hpp"
#include "studies/results/pareto.hpp"

using trikv::ResultRow;
using namespace figure_checks;

namespace {

constexpr double kDpi = 300;            // trikv.gp's png resolution
constexpr double kMaxWidthPt = 7.2 * 72, kMaxHeightPt = 9.0 * 72;  // trikv.gp's MAXW, MAXH
const std::string kTraceDir = "/tmp/träce störe, v2/kjv";
const std::string kNpyDir = "/home/üser/data sets/wïki-103 dump";

// A plugin's cache with eight parameters: a spec of 120 characters, every parameter shown.
std::string long_spec(std::size_t k) {
    std::string spec = "üntested-plugin-cache:alpha=0." + std::to_string(100 + k) + ",beta=" + std::to_string(k % 3) +
                       ",gamma=" + std::to_string(1000 + k) + ",delta=0.5,epsilon=residual,zeta=blocked,eta=" +
                       std::to_string(k) + ",theta=long-value";
    spec += std::string(120 - std::min<std::size_t>(120, spec.size()), 'x');
    return spec.substr(0, 114) + ",iota=" + std::to_string(k % 10);  // still 120-odd characters, all distinct
}

std::vector<std::string> stress_specs() {
    std::vector<std::string> specs;
    for (const char* dtype : {"f32", "bf16", "fp16", "int8"}) specs.push_back(std::string("product:dtype=") + dtype);
    for (const char* strategy : {"fused", "recompute"})
        for (const char* dtype : {"f32", "bf16", "fp16", "int8"})
            specs.push_back(std::string("factor:strategy=") + strategy + ",dtype=" + dtype);
    for (int w1 : {8, 16, 32, 64})
        for (int w2 : {8, 16, 32, 64}) specs.push_back("window:w1=" + std::to_string(w1) + ",w2=" + std::to_string(w2));
    for (int w : {16, 32, 64, 128}) specs.push_back("hybrid:window=" + std::to_string(w));
    for (const char* delta : {"0.3", "0.5"})
        for (int samples : {8, 16})
            for (int values : {64, 256})
                specs.push_back(std::string("subgen4:delta=") + delta + ",samples=" + std::to_string(samples) +
                                ",values=" + std::to_string(values) + ",seed=0");
    for (int degree : {1, 2, 3}) specs.push_back("poly:degree=" + std::to_string(degree));
    specs.push_back("sparse-factor");
    specs.push_back("reference");
    specs.push_back("matrix");
    for (std::size_t k = 0; specs.size() < 64; ++k) specs.push_back(long_spec(k));
    return specs;
}

// Every spec at n = 512, 1000, 2048 on four heads of a trace and four seeds of npy data.
std::vector<ResultRow> stress_rows() {
    std::vector<ResultRow> rows;
    const std::vector<std::string> specs = stress_specs();
    for (std::size_t k = 0; k < specs.size(); ++k)
        for (std::size_t n : {512, 1000, 2048})
            for (std::size_t instance = 0; instance < 8; ++instance) {
                ResultRow r;
                r.cache = specs[k];
                r.cache_type = specs[k].substr(0, specs[k].find(':'));
                r.exact = specs[k].rfind("üntested", 0) != 0 && trikv::is_exact(trikv::parse_cache_spec(specs[k]));
                r.n = n, r.d = 32, r.heads = 1;
                const bool trace = instance < 4;
                r.data = trace ? "trace(" + kTraceDir + ",layer=" + std::to_string(1 + 2 * (instance / 2)) +
                                     ",head=" + std::to_string(instance % 2) + ")"
                               : "npy(" + kNpyDir + ")";
                r.seed = trace ? 1 : instance - 3;
                const double spread = 1 + 0.1 * double(instance);
                r.step_ms_median = 0.001 * double(k + 1) * double(n) * spread;
                r.step_ms_median_ci_low = r.step_ms_median * 0.9, r.step_ms_median_ci_high = r.step_ms_median * 1.2;
                r.bytes = 100.0 * double(k + 1) * double(n);
                r.accuracy_positions = 64;
                r.rel_error_median = r.exact ? 1e-7 : 1e-3 * double(k + 1) * spread;
                r.value_error_median = r.rel_error_median / 2;
                r.rel_error_p90 = r.rel_error_max = r.rel_l2_error = r.rel_error_median * 2;
                rows.push_back(r);
            }
    return rows;
}

// The series labels a generated NAME.gp lists (array LABEL), '' for a series it does not key.
std::vector<std::string> script_labels(const std::string& script) {
    const std::size_t start = script.find("array LABEL[");
    REQUIRE(start != std::string::npos);
    std::vector<std::string> labels;
    std::size_t at = script.find("= [", start) + 3;
    while (script[at] == '\'' || script[at] == '(') {
        REQUIRE(script[at] == '\'');  // the stress labels need no LaTeX spelling
        std::string label;
        for (++at; !(script[at] == '\'' && script[at + 1] != '\''); ++at) {
            label += script[at];
            if (script[at] == '\'') ++at;  // '' is a quote
        }
        labels.push_back(label);
        at += 1;
        if (script.compare(at, 2, ", ") == 0) at += 2;
    }
    return labels;
}

// The words of each label located in the PDF, each word at a place of its own.
std::vector<std::vector<Word>> locate(const std::vector<std::string>& labels, const std::vector<Word>& found) {
    std::vector<std::vector<Word>> located;
    std::vector<const Word*> used;
    for (const std::string& label : labels) {
        located.emplace_back();
        for (const std::string& word : words(label)) {
            INFO("label: " << label << "\nword: " << word);
            const auto it = std::find_if(found.begin(), found.end(), [&](const Word& w) {
                return w.text == word && std::find(used.begin(), used.end(), &w) == used.end();
            });
            REQUIRE(it != found.end());
            used.push_back(&*it);
            located.back().push_back(*it);
        }
    }
    return located;
}

}  // namespace

TEST_CASE("figures with 64 series, long specs and non-ASCII absolute paths keep every key entry", "[figures][stress]") {
    if (!on_path("gnuplot") || !on_path("pdftotext")) {
        WARN("gnuplot or pdftotext (poppler-utils) is not on PATH: the stress test needs both");
        return;
    }
    TempDir dir("stress");
    const trikv::FigureReport report = trikv::write_figures(dir.path, stress_rows(), {"pareto", "scaling", "error"});
    CHECK(report.warnings.empty());
    for (const std::string& warning : report.warnings) INFO(warning);

    for (const std::string figure : {"pareto", "scaling", "error", "error-n"}) {
        INFO("figure " << figure);
        const std::string script = slurp(dir.path / (figure + ".gp"));
        std::vector<std::string> labels = script_labels(script);
        CHECK(labels.size() == 64);
        std::erase(labels, "");  // error-n keys only the approximate series
        REQUIRE(labels.size() >= 40);
        // Data named short: the trace by its model, the npy folder by its name; no part of their
        // paths anywhere. (Not "no /tmp/" at all: the script loads the style from the checkout,
        // which may itself live under /tmp, as a fresh clone in /tmp/fresh does.)
        const std::string data = slurp(dir.path / (figure == "error-n" ? "error-n.csv" : figure + ".csv"));
        for (const std::string& part : {kTraceDir, kNpyDir, std::string("träce störe"), std::string("/home/üser"),
                                        std::string("data sets")}) {
            CHECK(script.find(part) == std::string::npos);
            CHECK(data.find(part) == std::string::npos);
        }

        // Every series its own colour and marker (dashes come on top where lines are drawn).
        const auto array_of = [&](const std::string& name) {
            const std::size_t start = script.find("array " + name + "["), open = script.find("= [", start) + 3;
            return words(script.substr(open, script.find(']', open) - open));
        };
        const std::vector<std::string> colours = array_of("COLOUR"), points = array_of("POINT");
        const std::vector<std::string> keyed = script_labels(script);  // '' : not drawn (error-n's exact ones)
        REQUIRE((colours.size() == 64 && points.size() == 64 && keyed.size() == 64));
        for (std::size_t a = 0; a < colours.size(); ++a)
            for (std::size_t b = a + 1; b < colours.size(); ++b) {
                if (keyed[a].empty() || keyed[b].empty()) continue;
                INFO("series " << a + 1 << " and " << b + 1);
                CHECK((colours[a] != colours[b] || points[a] != points[b]));
            }

        const auto [page, found] = pdf_words(dir.path / (figure + ".pdf"), dir.path / (figure + ".html"));
        CHECK(page.x1 <= kMaxWidthPt + 1);
        CHECK(page.y1 <= kMaxHeightPt + 1);
        CHECK(page.y1 / page.x1 < 1.6);
        for (const Word& w : found) {
            INFO("word " << w.text);
            CHECK((w.x0 >= 0 && w.y0 >= 0 && w.x1 <= page.x1 && w.y1 <= page.y1));
            CHECK(w.text.find("/tmp") == std::string::npos);
        }
        CHECK(std::any_of(found.begin(), found.end(), [](const Word& w) { return w.text == "kjv"; }));
        CHECK(std::any_of(found.begin(), found.end(), [](const Word& w) { return w.text.rfind("dump", 0) == 0; }));
        const std::vector<std::vector<Word>> located = locate(labels, found);
        // No two labels overlap (words of one label may touch).
        std::vector<Word> key;
        std::vector<std::size_t> owner;
        for (std::size_t l = 0; l < located.size(); ++l)
            for (const Word& w : located[l]) key.push_back(w), owner.push_back(l);
        for (std::size_t a = 0; a < key.size(); ++a)
            for (std::size_t b = a + 1; b < key.size(); ++b) {
                if (owner[a] == owner[b]) continue;
                INFO(key[a].text << " / " << key[b].text);
                CHECK_FALSE((key[a].x0 < key[b].x1 - 0.5 && key[b].x0 < key[a].x1 - 0.5 && key[a].y0 < key[b].y1 - 0.5 &&
                             key[b].y0 < key[a].y1 - 0.5));
            }
        for (const std::string format : {"svg", "tex"}) CHECK(fs::file_size(dir.path / (figure + "." + format)) > 0);
        for (const std::string& label : labels) {
            INFO("label " << label);
            CHECK(slurp(dir.path / (figure + ".svg")).find(">" + label + "</text>") != std::string::npos);
            CHECK(slurp(dir.path / (figure + ".tex")).find("{" + label + "}") != std::string::npos);
        }
#ifdef TRIKV_TESTS_HAVE_PNG
        // The png: the same layout in inches; where the pdf has a label's words, the png has ink,
        // and a rendering without the key has none there.
        const std::string nokey = "cd '" + dir.path.string() + "' && gnuplot -e \"fmt='png'; out='" + figure +
                                  "-nokey.png'; NOKEY=1\" " + figure + ".gp 2>/dev/null";
        REQUIRE(std::system(nokey.c_str()) == 0);
        const Grey png = read_png(dir.path / (figure + ".png")), bare = read_png(dir.path / (figure + "-nokey.png"));
        // pdftotext gives the page in whole points: up to a point (4 pixels) apart.
        CHECK(std::abs(double(png.width) - page.x1 * kDpi / 72) < 5);
        CHECK(std::abs(double(png.height) - page.y1 * kDpi / 72) < 5);
        const double scale = kDpi / 72;
        for (std::size_t l = 0; l < labels.size(); ++l) {
            INFO("png label " << labels[l]);
            std::size_t ink = 0, bare_ink = 0, area = 0;
            for (const Word& w : located[l]) {
                ink += png.dark(w.x0 * scale, w.y0 * scale, w.x1 * scale, w.y1 * scale);
                bare_ink += bare.dark(w.x0 * scale, w.y0 * scale, w.x1 * scale, w.y1 * scale);
                area += std::size_t((w.x1 - w.x0) * (w.y1 - w.y0) * scale * scale);
            }
            CHECK(double(ink) > 0.03 * double(area));
            CHECK(bare_ink * 10 < ink);
        }
#else
        WARN("built without libpng: the png keys are not checked");
#endif
    }
}

TEST_CASE("a key entry wider than a page is drawn all the same, and reported", "[figures][stress]") {
    if (!on_path("gnuplot")) {
        WARN("gnuplot is not on PATH: renderings not checked");
        return;
    }
    TempDir dir("too wide");
    std::vector<ResultRow> rows = stress_rows();
    std::erase_if(rows, [](const ResultRow& r) { return r.cache_type != "product"; });
    rows.front().cache = rows.front().cache_type = "plugin-" + std::string(300, 'w');  // alone: all of it shows
    const trikv::FigureReport report = trikv::write_figures(dir.path, rows, {"pareto"});
    REQUIRE(report.warnings.size() == 4);  // one per format
    CHECK_THAT(report.warnings[0], Catch::Matchers::StartsWith("pareto.png: a key entry or the subtitle needs"));
    CHECK(std::count(report.notes.begin(), report.notes.end(), report.warnings[1]) == 1);
    CHECK(fs::file_size(dir.path / "pareto.pdf") > 0);
}
