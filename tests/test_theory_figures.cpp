// The theory figures (studies/figures/theory_figures.cpp, studies/figures/gnuplot/theory-*.gp): what
// each draws from which rows, and that every series and every reference line (the Taylor
// bounds, the seed's lines, the O(1/√values) line) is in its key when rendered.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "studies/figures/figures.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using trikv::ResultRow;

namespace {

constexpr std::size_t kDim = 16;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool on_path(const std::string& program) {
    return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

ResultRow row(const std::string& cache, std::size_t n, const std::string& data, double scale, double bytes,
              double error) {
    ResultRow r;
    r.cache = cache;
    r.cache_type = cache.substr(0, cache.find(':'));
    r.exact = r.cache_type == "factor" || r.cache_type == "product";
    r.n = n;
    r.d = kDim;
    r.heads = 1;
    r.data = data;
    r.attention_scale = scale;
    r.step_ms_median = 0.001 * double(n);
    r.bytes = bytes;
    r.rel_l2_error = error;
    r.score_bound = scale * std::sqrt(double(kDim)) * std::log2(double(n)) / 2;  // grows with the scale and n
    r.subgen_normalised_error = error / 100;
    return r;
}

// A small theory study: poly 1–3, a window, subgen4 at three value budgets and the exact
// caches, at n = 64 and 256, on gaussian and clustered data, at scale 1/d and 1/√d.
std::vector<ResultRow> theory_rows() {
    std::vector<ResultRow> rows;
    for (const std::string data : {"gaussian", "clustered(m=16,delta=0.1)"})
        for (const double scale : {1.0 / double(kDim), 1.0 / std::sqrt(double(kDim))})
            for (const std::size_t n : {64, 256}) {
                const double nd = double(n * kDim);
                for (int p = 1; p <= 3; ++p) {
                    ResultRow poly = row("poly:degree=" + std::to_string(p), n, data, scale, 1000.0 * p, 0);
                    poly.rel_l2_error = std::pow(poly.score_bound / 8, p + 1);  // falls with B as the remainder
                    rows.push_back(poly);
                }
                rows.push_back(row("window:w1=64,w2=64", n, data, scale, 500, 0.5));
                for (const int values : {32, 128, 512})
                    rows.push_back(row("subgen4:delta=0.5,samples=16,values=" + std::to_string(values) + ",seed=0", n,
                                       data, scale, 40.0 * values, 2 / std::sqrt(double(values))));
                rows.push_back(row("factor:strategy=fused,dtype=f32", n, data, scale, 16 * nd, 1e-7));
                // product's float32 rounding a little below factor's: no reason to keep it on a front
                rows.push_back(row("product:dtype=f32", n, data, scale, 8 * nd * double(n), 5e-8));
            }
    return rows;
}

}  // namespace

TEST_CASE("theory figures: the data each one draws", "[figures][theory]") {
    const trikv::test::ScratchDir scratch("theory-figures-data");
    const fs::path& dir = scratch.path();
    const auto report = trikv::write_figures(dir, theory_rows(), {"theory"});
    for (const std::string name : {"theory-bound", "theory-cost", "theory-front", "theory-subgen"}) {
        INFO(name);
        CHECK(fs::exists(dir / (name + ".csv")));
        CHECK_THAT(slurp(dir / (name + ".gp")), Contains("load STYLE_DIR . '/" + name + ".gp'"));
        CHECK(fs::exists(dir / "gnuplot" / (name + ".gp")));
    }
    // bound: every poly row, a series per degree, its n's rank for the marker.
    const std::string bound = slurp(dir / "theory-bound.gp");
    CHECK_THAT(bound, Contains("array LABEL[3] = ['poly:degree=1', 'poly:degree=2', 'poly:degree=3']"));
    CHECK_THAT(bound, Contains("array DEGREE[3] = [1, 2, 3]"));
    CHECK_THAT(bound, Contains("array NS[2] = [64, 256]"));
    CHECK_THAT(bound, Contains("array PANEL_TITLE[2] = ['gaussian', 'clustered(m=16,delta=0.1)']"));
    CHECK_THAT(slurp(dir / "theory-bound.csv"), Contains("1,3,256,2,16,0.25,gaussian,4,0.0625,poly:degree=3\n"));
    // cost: gaussian data at scale 1/d only, every cache a series.
    const std::string cost = slurp(dir / "theory-cost.csv");
    CHECK(cost.find("clustered") == std::string::npos);
    CHECK_THAT(slurp(dir / "theory-cost.gp"), Contains("SUBTITLE = 'd = 16, 1 head, gaussian data, scale 1/d'"));
    CHECK_THAT(slurp(dir / "theory-cost.gp"), Contains("D = 16"));
    // front: a panel per data × scale at the largest n; in each the front by memory, then the
    // points off it (product: larger than factor, its error within the exact caches' rounding).
    const std::string front = slurp(dir / "theory-front.gp");
    CHECK_THAT(front, Contains("COLUMNS = 2"));
    CHECK_THAT(front, Contains("ROWS = 2"));
    CHECK_THAT(front, Contains("array PANEL_TITLE[4] = ['gaussian, scale 1/d', 'clustered(m=16,delta=0.1), scale 1/d', "
                               "(fmt eq 'tex' ? 'gaussian, scale 1/$\\surd$d' : 'gaussian, scale 1/√d'), "));
    const std::string front_csv = slurp(dir / "theory-front.csv");
    CHECK(front_csv.find(",64,") == std::string::npos);
    CHECK_THAT(front_csv, Contains("4,1,1,8388608,5e-08,product:dtype=f32,product\n"));
    CHECK_THAT(front_csv, Contains("4,0,2,65536,1e-07,\"factor:strategy=fused,dtype=f32\",factor\n"));
    // subgen: a panel per data, a series per scale over the value budgets, at the largest n.
    const std::string subgen = slurp(dir / "theory-subgen.gp");
    CHECK_THAT(subgen, Contains("array LABEL[2] = ['subgen4:samples=16, scale 1/d', "));
    CHECK_THAT(subgen, Contains("array PANEL_TITLE[2] = ['gaussian', 'clustered(m=16,delta=0.1)']"));
    const std::string subgen_csv = slurp(dir / "theory-subgen.csv");
    CHECK(subgen_csv.find(",64,") == std::string::npos);
    CHECK_THAT(subgen_csv, Contains("\n2,2,32,0.0035355339059327372,"));  // panel, series, budget, error
    CHECK(report.notes.empty());
}

TEST_CASE("theory figures: each left out with a note without its rows", "[figures][theory]") {
    const trikv::test::ScratchDir scratch("theory-figures-none");
    const fs::path& dir = scratch.path();
    std::vector<ResultRow> exact;
    for (const ResultRow& r : theory_rows())
        if (r.exact && r.n == 64) exact.push_back(r);
    const auto report = trikv::write_figures(dir, exact, {"theory"});
    for (const std::string note : {"no theory-bound figure", "no theory-cost figure", "no theory-subgen figure"}) {
        INFO(note);
        CHECK(std::any_of(report.notes.begin(), report.notes.end(),
                          [&](const std::string& n) { return n.rfind(note, 0) == 0; }));
    }
    CHECK_FALSE(fs::exists(dir / "theory-bound.csv"));
    CHECK(fs::exists(dir / "theory-front.csv"));  // the exact caches' errors against their memory
}

TEST_CASE("theory figures: every series and reference line is in the rendered key", "[figures][theory]") {
    if (!on_path("gnuplot")) {
        WARN("gnuplot is not on PATH: renderings not checked");
        return;
    }
    const trikv::test::ScratchDir scratch("theory-figures-keys");
    const fs::path& dir = scratch.path();
    trikv::write_figures(dir, theory_rows(), {"theory"});
    const std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
        {"theory-bound",
         {"poly:degree=1", "poly:degree=2", "poly:degree=3", "degree 1 bound e^B·B^2/2!", "degree 2 bound e^B·B^3/3!",
          "degree 3 bound e^B·B^4/4!", "n = 64", "n = 256"}},
        {"theory-cost",
         {"poly:degree=1", "window", "factor", "product", "subgen4:samples=16,values=32", "subgen4:samples=16,values=512", "time ∝ nd (slope 1)",
          "time ∝ n²d (slope 2)", "seed bound Ω(nd): 4nd·4 B", "seed bound Ω(n²d): 2n²d·4 B"}},
        {"theory-front",
         {"poly:degree=3", "window", "subgen4:samples=16,values=128", "factor", "product", "Pareto front (memory, error) of the panel",
          "gaussian, scale 1/√d"}},
        {"theory-subgen", {"subgen4:samples=16, scale 1/d", "subgen4:samples=16, scale 1/√d", "reference O(1/√values)",
                           "clustered(m=16,delta=0.1)"}},
    };
    for (const auto& [figure, entries] : keys) {
        const std::string svg = slurp(dir / (figure + ".svg")), tex = slurp(dir / (figure + ".tex"));
        for (const std::string& entry : entries) {
            INFO(figure << ": " << entry);
            CHECK_THAT(svg, Contains(">" + entry + "</text>"));
        }
        CHECK(tex.find("\\begin{tikzpicture}") != std::string::npos);
    }
    // The remainder bound is drawn as a curve per degree in both panels, not only keyed.
    const std::string bound = slurp(dir / "theory-bound.svg"), curve = "<title>bound(x, DEGREE[i])</title>";
    std::size_t curves = 0;
    for (std::size_t at = bound.find(curve); at != std::string::npos; at = bound.find(curve, at + 1)) ++curves;
    CHECK(curves == 3 * 2);
}
