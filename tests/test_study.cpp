// The study driver: spec parsing and validation, sweep expansion, stable keys, Pareto fronts,
// CSV round trip, skip on the memory limit, and resume after a crash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <set>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/npy.hpp"
#include "studies/measure/measure.hpp"
#include "studies/results/pareto.hpp"
#include "studies/results/results.hpp"
#include "studies/run/study_runner.hpp"
#include "studies/spec/study_spec.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

fs::path fresh_dir(const std::string& name) { return trikv::test::fresh_dir("study-" + name); }

trikv::ResultRow point(const std::string& cache, double ms, double bytes, double error = 0, std::size_t n = 64) {
    trikv::ResultRow row;
    row.cache = cache;
    row.cache_type = cache.substr(0, cache.find(':'));
    row.n = n;
    row.d = 8;
    row.heads = 1;
    row.step_ms_median = ms;
    row.bytes = bytes;
    row.rel_l2_error = error;
    char key[17];  // a valid key (16 hex digits), distinct per cache and time
    std::snprintf(key, sizeof key, "%016zx", std::hash<std::string>{}(cache + std::to_string(ms)));
    row.key = key;
    return row;
}

std::vector<std::string> caches_at(const std::vector<trikv::ResultRow>& rows, const std::vector<std::size_t>& indices) {
    std::vector<std::string> out;
    for (std::size_t i : indices) out.push_back(rows[i].cache);
    return out;
}

}  // namespace

TEST_CASE("a study file parses, expands grids and keeps build and measurement parameters", "[study]") {
    const trikv::StudySpec spec = trikv::parse_study(R"(
name = "t"
caches = ["product"]
n = [16, 32]
d = [8]
heads = [1, 2]
repetitions = 3
[[grid]]
cache = "factor"
strategy = ["fused", "recompute"]
)", "t.toml");
    const std::vector<trikv::StudyPoint> points = trikv::expand_study(spec);
    REQUIRE(points.size() == 3 * 2 * 1 * 2);  // caches × n × d × heads
    std::set<std::string> specs, keys;
    for (const auto& p : points) {
        specs.insert(p.cache);
        keys.insert(p.key());
        CHECK(p.repetitions == 3);
    }
    CHECK(specs == std::set<std::string>{"product:dtype=f32", "factor:strategy=fused,dtype=f32", "factor:strategy=recompute,dtype=f32"});
    CHECK(keys.size() == points.size());  // every configuration has its own key
    for (const auto& p : points) {  // resolved once: the registry's entry of the spec's type
        REQUIRE(p.type != nullptr);
        CHECK(p.type == &trikv::find_cache_type(trikv::parse_cache_spec(p.cache).name()));
    }
}

TEST_CASE("each study choice reads back from its name and a bad name names the field", "[study]") {
    for (const auto workload : {trikv::Workload::decode, trikv::Workload::var})
        CHECK(trikv::parse_kind<trikv::Workload>(trikv::name_of(workload), "workload") == workload);
    for (const auto kind : {trikv::DataKind::gaussian, trikv::DataKind::clustered, trikv::DataKind::sparse, trikv::DataKind::npy})
        CHECK(trikv::parse_kind<trikv::DataKind>(trikv::name_of(kind), "data.kind") == kind);
    for (const auto status : {trikv::PointStatus::ok, trikv::PointStatus::skipped, trikv::PointStatus::failed})
        CHECK(trikv::parse_kind<trikv::PointStatus>(trikv::name_of(status), "status") == status);
    CHECK_THROWS_WITH(trikv::parse_kind<trikv::Workload>("vra", "s.toml: workload"),
                      "s.toml: workload = 'vra' is not one of decode, var, prefill (did you mean 'var'?)");
    // prefill rows come from `trikv prefill`; a study refuses the workload.
    CHECK_THROWS_WITH(trikv::validate_study(trikv::parse_study("caches = [\"product\"]\nd = [4]\nworkload = \"prefill\"", "s.toml")),
                      "study: workload = 'prefill' is measured by `trikv prefill`, not by a study (decode, var)");
}

TEST_CASE("point keys are stable and change with every configuration field", "[study]") {
    const trikv::StudyPoint p =
        trikv::point_for("factor:strategy=fused", {.n = 128, .d = 64, .heads = 1, .seed = 1, .warmup = 2, .repetitions = 5});
    const std::string key = p.key();
    CHECK(key.size() == 16);
    CHECK(trikv::StudyPoint(p).key() == key);
    auto differs = [&](auto mutate) {
        trikv::StudyPoint q = p;
        mutate(q);
        return q.key() != key;
    };
    CHECK(differs([](auto& q) { q.cache = "product"; }));
    CHECK(differs([](auto& q) { q.n = 129; }));
    CHECK(differs([](auto& q) { q.d = 32; }));
    CHECK(differs([](auto& q) { q.heads = 2; }));
    CHECK(differs([](auto& q) { q.seed = 2; }));
    CHECK(differs([](auto& q) { q.repetitions = 6; }));
    CHECK(differs([](auto& q) { q.data.kind = trikv::DataKind::clustered; }));
}

TEST_CASE("grouped heads, variants and bias are in the point key only where they differ from the defaults",
          "[study]") {
    const trikv::StudyPoint p = trikv::point_for(
        "factor:strategy=fused", {.n = 128, .d = 64, .heads = 4, .seed = 1, .warmup = 2, .repetitions = 5});
    const std::string key = p.key();
    trikv::StudyPoint resolved = p;
    resolved.kv_heads = 4;  // what expand_study sets without a kv_heads list: the old key
    CHECK(resolved.key() == key);
    auto differs = [&](auto mutate) {
        trikv::StudyPoint q = resolved;
        mutate(q);
        return q.key() != key;
    };
    CHECK(differs([](auto& q) { q.kv_heads = 1; }));
    CHECK(differs([](auto& q) { q.variant = trikv::ScoreVariant::strassen; }));
    CHECK(differs([](auto& q) { q.k2_bias = 0.5; }));
    CHECK(differs([](auto& q) { q.v2_bias = 1.0; }));
}

TEST_CASE("a study sweeps kv_heads and variants, leaving out what a cache does not compute", "[study]") {
    const trikv::StudySpec spec = trikv::parse_study(R"(
caches = ["factor", "product", "pair-logits", "matrix"]
n = [8]
d = [4]
heads = [4]
kv_heads = [1, 2]
variant = ["trilinear", "rank1", "strassen"]
k2_bias = 0.25
v2_bias = 1
)", "t.toml");
    const std::vector<trikv::StudyPoint> points = trikv::expand_study(spec);
    // factor: 3 variants, product and matrix: trilinear, pair-logits: strassen; × 2 kv_heads.
    REQUIRE(points.size() == (3 + 1 + 1 + 1) * 2);
    std::set<std::string> keys;
    for (const auto& p : points) {
        keys.insert(p.key());
        CHECK((p.kv_heads == 1 || p.kv_heads == 2));
        CHECK(p.k2_bias == 0.25);
        CHECK(p.v2_bias == 1.0);
        if (p.cache == "pair-logits") CHECK(p.variant == trikv::ScoreVariant::strassen);
    }
    CHECK(keys.size() == points.size());
    CHECK_THROWS_WITH(trikv::expand_study(trikv::parse_study("caches = [\"factor\"]\nn = [8]\nd = [4]\nheads = [4]\n"
                                                             "kv_heads = [3]",
                                                             "t.toml")),
                      Contains("kv_heads = 3 does not divide heads = 4"));
    CHECK_THROWS_WITH(trikv::parse_study("variant = [\"cubic\"]", "t.toml"), Contains("variant=cubic"));
}

TEST_CASE("a grouped, biased point of each variant measures every exact cache against the float64 exact answer",
          "[study]") {
    const trikv::StudySpec spec = trikv::parse_study(R"(
caches = ["factor", "pair-logits", "reference", "window:w1=4,w2=8"]
n = [12]
d = [8]
heads = [4]
kv_heads = [2]
variant = ["trilinear", "rank1", "strassen"]
k2_bias = 0.125
v2_bias = 1
warmup = 0
repetitions = 2
)", "t.toml");
    for (const trikv::StudyPoint& point : trikv::expand_study(spec)) {
        INFO(point.describe());
        const std::vector<trikv::ResultRow> rows = trikv::measure_point(point, {}, 1e12);
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].status == trikv::PointStatus::ok);
        CHECK((rows[0].kv_heads == 2 && rows[0].variant == trikv::variant_name(point.variant) && rows[0].k2_bias == 0.125));
        // The window drops pairs once the sequence outgrows it: not exact, but measured.
        if (point.cache.rfind("window", 0) == 0) CHECK(rows[0].rel_l2_error > 1e-3);
        else CHECK(rows[0].rel_l2_error < 1e-5);
    }
}

TEST_CASE("study files are validated field by field", "[study]") {
    auto error_of = [](const std::string& text) {
        try {
            trikv::validate_study(trikv::parse_study(text, "s.toml"));
        } catch (const trikv::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(error_of("n = [1\n"), Contains("s.toml:") && Contains("TOML syntax error"));
    CHECK_THAT(error_of("cahces = [\"product\"]"), Contains("unknown key 'cahces'") && Contains("did you mean 'caches'"));
    CHECK_THAT(error_of("caches = [\"prodcut\"]\nn=[4]\nd=[4]"), Contains("unknown cache 'prodcut'"));
    CHECK_THAT(error_of("caches = [\"product\"]\nn=[0]\nd=[4]"), Contains("n") && Contains("out of range"));
    CHECK_THAT(error_of("caches = [\"product\"]\nn=\"big\"\nd=[4]"), Contains("n must be an integer"));
    CHECK_THAT(error_of("caches = [\"product\"]\nn=[4]\nd=[4]\nrepetitions = 0"), Contains("repetitions = 0"));
    CHECK_THAT(error_of("caches = [\"product\"]\nn=[4]\nd=[4]\nmem_limit = \"lots\""), Contains("mem_limit"));
    CHECK_THAT(error_of("caches = [\"product\"]\nn=[4]\nd=[4]\n[data]\nkind = \"uniform\""), Contains("data.kind = 'uniform'"));
    CHECK_THAT(error_of("caches = [\"product\"]\nn=[4]\nd=[4]\n[data]\nclustres = 3"), Contains("did you mean 'clusters'"));
    CHECK_THAT(error_of("n=[4]\nd=[4]"), Contains("no caches"));
    CHECK_THAT(error_of("caches = [\"product\"]\nn=[4]\nd=[4]\n[[grid]]\ncache = \"factor\"\nstrategi = [\"fused\"]"),
               Contains("has no parameter 'strategi'"));
    CHECK(error_of("caches = [\"product\"]\nn=[4]\nd=[4]") == "no error");
    // A value twice would be measured once, then reported as recorded by another process.
    CHECK(error_of("caches = [\"product\"]\nn=[4, 8, 4]\nd=[4]") == "study: n: 4 is given twice; give each value once");
    CHECK(error_of("caches = [\"product\"]\nn=[4]\nd=[4]\nscale = [0.5, 0.5]") ==
          "study: scale: 0.5 is given twice; give each value once");
    // A NUL would cut the directory's name short where the system reads it.
    CHECK(error_of("caches = [\"product\"]\nn=[4]\nd=[4]\nout = \"results/a\\u0000b\"") ==
          "study: out = 'results/a\\x00b' holds a NUL character");
}

TEST_CASE("the time-memory front keeps strict improvements and breaks ties by order", "[study][pareto]") {
    const std::vector<trikv::ResultRow> rows = {
        point("a", 10, 100), point("b", 5, 200), point("c", 5, 300),  // c: same time, more memory
        point("d", 1, 1000), point("e", 20, 50), point("f", 10, 100),  // f: identical to a
        point("g", 30, 60),                                             // g: dominated by e
    };
    CHECK(caches_at(rows, trikv::time_memory_front(rows)) == std::vector<std::string>{"e", "a", "b", "d"});

    const std::vector<trikv::ResultRow> with_error = {point("x", 1, 1, 0.5), point("y", 2, 2, 0.1),
                                                      point("z", 3, 3, 0.2), point("w", 1, 1, 0.5)};
    // z is dominated by y on all three axes; w duplicates x.
    CHECK(caches_at(with_error, trikv::time_memory_error_front(with_error)) == std::vector<std::string>{"x", "y"});
}

TEST_CASE("pareto fronts are per group, exact ones only below the error tolerance", "[study][pareto]") {
    std::vector<trikv::ResultRow> rows = {point("product", 5, 1000, 0, 64), point("factor", 2, 10, 0, 64),
                                          point("product", 50, 9000, 0, 128), point("bad", 1, 1, 0.5, 128)};
    rows[3].exact = false;
    const std::vector<trikv::ParetoPoint> fronts = trikv::pareto_fronts(rows);
    std::vector<std::string> exact, approximate;
    for (const auto& p : fronts) (p.front == "exact" ? exact : approximate).push_back(p.row.cache + "@" + std::to_string(p.row.n));
    CHECK(exact == std::vector<std::string>{"factor@64", "product@128"});
    CHECK(approximate == std::vector<std::string>{"product@128", "bad@128"});
}

TEST_CASE("points on different data are never on one front", "[study][pareto]") {
    // At s = 4 the small cache is fast; at s = 64 the other one is. Compared across data, the
    // s = 4 point would dominate everything.
    std::vector<trikv::ResultRow> rows = {point("a", 1, 10), point("b", 50, 500), point("a", 40, 400), point("b", 5, 50)};
    rows[0].data = rows[1].data = "sparse(s=4,support=random)";
    rows[2].data = rows[3].data = "sparse(s=64,support=random)";
    std::vector<std::size_t> exact;
    std::set<std::size_t> groups;
    for (const auto& p : trikv::pareto_fronts(rows)) exact.push_back(p.index), groups.insert(p.group);
    CHECK(exact == std::vector<std::size_t>{0, 3});
    CHECK(groups.size() == 2);
}

TEST_CASE("pareto fronts keep score variants and kv head counts apart", "[study][pareto]") {
    // factor's rank1 path is far faster than anything trilinear: a different computation, so it
    // must not push the trilinear points off their front.
    std::vector<trikv::ResultRow> rows = {point("product", 5, 1000, 0, 64), point("factor", 0.1, 10, 0, 64),
                                          point("factor", 0.1, 10, 0, 64)};
    rows[1].variant = "rank1";
    rows[2].kv_heads = 1;
    std::vector<std::string> exact;
    for (const auto& p : trikv::pareto_fronts(rows))
        if (p.front == "exact") exact.push_back(p.row.cache + "/" + p.row.variant + "/" + std::to_string(p.row.kv_heads));
    std::sort(exact.begin(), exact.end());
    CHECK(exact == std::vector<std::string>{"factor/rank1/0", "factor/trilinear/1", "product/trilinear/0"});
}

TEST_CASE("results.csv round-trips every column, including quoted reasons", "[study]") {
    const fs::path dir = fresh_dir("csv");
    trikv::ResultRow a = point("factor:strategy=fused", 1.25, 4096, 3.5e-7);
    a.reason = "a \"quoted\", comma";
    a.status = trikv::PointStatus::failed;
    a.seed = 12345678901ull;
    trikv::ResultRow b = point("product", 0.1, 1e10);
    trikv::write_results_csv(dir / "r.csv", {a, b});
    const auto back = trikv::read_results_csv(dir / "r.csv");
    REQUIRE(back.size() == 2);
    CHECK(trikv::to_csv_line(back[0]) == trikv::to_csv_line(a));
    CHECK(trikv::to_csv_line(back[1]) == trikv::to_csv_line(b));
    CHECK(back[0].reason == a.reason);

    std::string text = trikv::csv_header() + "\n" + trikv::to_csv_line(b) + "\n";
    text.replace(text.rfind(",ok,"), 4, ",done,");  // a status no row has
    std::ofstream(dir / "status.csv") << text;
    CHECK_THROWS_WITH(trikv::read_results_csv(dir / "status.csv"), Contains("(status): status = 'done' is not one of ok, skipped, failed"));

    std::ofstream(dir / "bad.csv") << "cache,n\nx,1\n";
    CHECK_THROWS_WITH(trikv::read_results_csv(dir / "bad.csv"), Contains("line 1: the header lacks the column"));
    fs::remove_all(dir);
}

TEST_CASE("a point projected above the memory limit is skipped, never attempted", "[study]") {
    const trikv::StudyPoint p =
        trikv::point_for("product", {.n = 4096, .d = 64, .heads = 1, .seed = 1, .warmup = 0, .repetitions = 1});
    const double projected = trikv::projected_bytes(p);
    CHECK(projected > 2.0 * 4096 * 4096 * 64 * 4);  // the pair tensors alone
    const std::vector<trikv::ResultRow> rows = trikv::measure_point(p, {}, projected / 2);
    REQUIRE(rows.size() == 1);
    const trikv::ResultRow& row = rows.front();
    CHECK(row.status == trikv::PointStatus::skipped);
    CHECK_THAT(row.reason, Contains("exceed the memory limit"));
    CHECK(row.bytes == 0);
}

TEST_CASE("a study resumes after a crash without duplicating points", "[study]") {
    const fs::path dir = fresh_dir("resume");
    trikv::StudySpec spec;
    spec.name = "resume";
    spec.caches = {"factor", "product"};
    spec.n = {8, 16};
    spec.d = {4};
    spec.warmup = 0;
    spec.repetitions = 2;
    spec.threads = 1;
    spec.figures = {};
    spec.out = dir.string();

    const trikv::StudySummary first = trikv::run_study(spec, {.peaks = trikv::MachinePeaks{100, 10, 1}});
    CHECK(first.measured == 4);
    const auto complete = trikv::read_results_csv(dir / "results.csv");
    REQUIRE(complete.size() == 4);
    for (const auto& row : complete) {
        CHECK(row.ok());
        CHECK(row.rel_l2_error < 1e-5);
        CHECK(row.bytes > 0);
    }

    // A crash after two points: results.csv holds only them (plus a stray temporary).
    trikv::write_results_csv(dir / "results.csv", {complete[0], complete[1]});
    std::ofstream(dir / "results.csv.tmp.999.0") << "torn";
    const trikv::StudySummary second = trikv::run_study(spec, {.peaks = trikv::MachinePeaks{100, 10, 1}});
    CHECK(second.resumed == 2);
    CHECK(second.measured == 2);
    const auto resumed = trikv::read_results_csv(dir / "results.csv");
    std::set<std::string> keys;
    for (const auto& row : resumed) keys.insert(row.key);
    CHECK(resumed.size() == 4);
    CHECK(keys.size() == 4);
    CHECK(fs::exists(dir / "pareto.csv"));
    CHECK(fs::exists(dir / "results.json"));
    fs::remove_all(dir);
}

namespace {

trikv::StudySpec small_spec(const fs::path& dir, std::vector<std::string> caches) {
    trikv::StudySpec spec;
    spec.name = "semantics";
    spec.caches = std::move(caches);
    spec.n = {8};
    spec.d = {4};
    spec.warmup = 1;
    spec.repetitions = 2;
    spec.threads = 1;
    spec.figures = {};
    spec.out = dir.string();
    return spec;
}

trikv::StudyOptions known_peaks() {
    trikv::StudyOptions options;
    options.peaks = trikv::MachinePeaks{100, 10, 1};
    return options;
}

// Five [tokens, d] arrays of value `fill + i` for the i-th element.
void write_npy_data(const fs::path& dir, std::size_t tokens, std::size_t d, double fill) {
    fs::create_directories(dir);
    for (const char* name : {"q", "k1", "k2", "v1", "v2"}) {
        xt::xarray<double> x = xt::zeros<double>({tokens, d});
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = fill + 0.01 * double(i % 17);
        trikv::write_npy(dir / (std::string(name) + ".npy"), trikv::make_npy(x));
    }
}

}  // namespace

TEST_CASE("scale is part of the point key, and the kind's default scale is the same point as none", "[study]") {
    const std::string base = "caches = [\"factor\", \"matrix\"]\nn = [8]\nd = [4]\n";
    const auto plain = trikv::expand_study(trikv::parse_study(base, "s.toml"));
    const auto quarter = trikv::expand_study(trikv::parse_study(base + "scale = 0.25\n", "s.toml"));
    const auto other = trikv::expand_study(trikv::parse_study(base + "scale = 0.3\n", "s.toml"));
    REQUIRE(plain.size() == 2);
    CHECK(plain[0].resolved_scale() == 0.25);    // tensor: 1/d
    CHECK(quarter[0].key() == plain[0].key());   // factor at its default 1/d
    CHECK(quarter[1].key() != plain[1].key());   // matrix's default is 1/√d = 0.5
    CHECK(other[0].key() != plain[0].key());
    CHECK(other[0].resolved_scale() == 0.3);
    CHECK_THROWS_WITH(trikv::parse_study(base + "scale = -1\n", "s.toml"), Contains("scale"));
    // The resolved study keeps it.
    CHECK(trikv::expand_study(trikv::parse_study(trikv::to_toml(trikv::parse_study(base + "scale = 0.3\n", "s.toml")),
                                                 "r.toml"))[0].key() == other[0].key());
}

TEST_CASE("scale and data.kind may be lists, each value a point of its own", "[study]") {
    const std::string base = "caches = [\"factor\"]\nn = [8]\nd = [16]\n";
    const trikv::StudySpec spec =
        trikv::parse_study(base + "scale = [0.0625, 0.25]\n[data]\nkind = [\"gaussian\", \"clustered\"]\n", "s.toml");
    const auto points = trikv::expand_study(spec);
    REQUIRE(points.size() == 4);
    std::set<std::pair<double, std::string>> seen;
    for (const auto& p : points) seen.insert({p.resolved_scale(), p.data.label()});
    CHECK(seen == std::set<std::pair<double, std::string>>{{0.0625, "gaussian"}, {0.0625, "clustered(m=16,delta=0.1)"},
                                                           {0.25, "gaussian"}, {0.25, "clustered(m=16,delta=0.1)"}});
    // 1/d = 0.0625 is the default: the same point as a study without scale, a single kind as before.
    const auto plain = trikv::expand_study(trikv::parse_study(base, "s.toml"));
    CHECK(points[0].key() == plain[0].key());
    // The resolved study keeps both lists.
    const auto again = trikv::expand_study(trikv::parse_study(trikv::to_toml(spec), "r.toml"));
    REQUIRE(again.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(again[i].key() == points[i].key());
    CHECK_THROWS_WITH(trikv::parse_study(base + "scale = []\n", "s.toml"), Contains("scale must not be empty"));
    CHECK_THROWS_WITH(trikv::parse_study(base + "scale = [0.1, \"x\"]\n", "s.toml"), Contains("scale must be a number"));
    CHECK_THROWS_WITH(trikv::validate_study(trikv::parse_study(base + "[data]\nkind = [\"gaussian\", \"uniform\"]\n", "s.toml")),
                      Contains("data.kind = 'uniform'"));
}

TEST_CASE("numeric spec values are canonical and a repeated cache is one point", "[study]") {
    const std::string canonical = trikv::parse_cache_spec("window:w1=8").canonical();
    CHECK(trikv::parse_cache_spec("window:w1=8.0").canonical() == canonical);
    CHECK(trikv::parse_cache_spec("window:w1=8e0").canonical() == canonical);
    CHECK(trikv::parse_cache_spec("subgen4:delta=0.50").canonical() == trikv::parse_cache_spec("subgen4").canonical());
    trikv::StudySpec spec = trikv::parse_study("caches = [\"factor\", \"factor\", \"window:w1=8.0\", \"window:w1=8\"]\n"
                                               "n = [8]\nd = [4]\n", "s.toml");
    CHECK(trikv::expand_study(spec).size() == 2);
}

TEST_CASE("npy data is keyed by content, and data too short for the largest n is refused up front", "[study]") {
    const fs::path dir = fresh_dir("npy");
    write_npy_data(dir / "data", 16, 4, 0.5);
    auto study = [](const std::string& n, const fs::path& data) {
        return "caches = [\"factor\"]\nd = [4]\nwarmup = 1\nrepetitions = 2\nn = " + n + "\n[data]\nkind = \"npy\"\ndir = \"" +
               data.string() + "\"\n";
    };
    auto key_of = [&](const fs::path& data) {
        return trikv::expand_study(trikv::parse_study(study("[8]", data), "s.toml"))[0].key();
    };
    const std::string key = key_of(dir / "data");
    fs::copy(dir / "data", dir / "moved");
    CHECK(key_of(dir / "moved") == key);  // same content elsewhere: same point
    write_npy_data(dir / "data", 16, 4, 0.75);
    CHECK(key_of(dir / "data") != key);  // rewritten in place: a new point

    const trikv::StudySpec too_long = trikv::parse_study(study("[8, 14]", dir / "data"), "s.toml");
    CHECK_THROWS_WITH(trikv::validate_study(too_long), Contains("holds 16 tokens") && Contains("needs 17"));
    fs::remove_all(dir);
}

TEST_CASE("failed points are retried, skipped ones re-evaluated, stale rows kept out of the outputs", "[study]") {
    const fs::path dir = fresh_dir("rerun");
    trikv::StudySpec spec = small_spec(dir, {"factor", "product"});
    // A previous run left a failed row for factor and a skipped one for product.
    const std::vector<trikv::StudyPoint> points = trikv::expand_study(spec);
    trikv::ResultRow failed = trikv::describe_point(points[0]), skipped = trikv::describe_point(points[1]);
    failed.status = trikv::PointStatus::failed;
    failed.reason = "out of memory";
    skipped.status = trikv::PointStatus::skipped;
    skipped.reason = "projected 1 GB exceed the memory limit of 1 kB";
    trikv::write_results_csv(dir / "results.csv", {failed, skipped});

    const trikv::StudySummary rerun = trikv::run_study(spec, known_peaks());
    CHECK(rerun.measured == 2);
    CHECK(rerun.resumed == 0);
    auto rows = trikv::read_results_csv(dir / "results.csv");
    REQUIRE(rows.size() == 2);
    for (const trikv::ResultRow& row : rows) {
        CHECK(row.ok());
        CHECK(row.warmup == 1);
        CHECK(row.repetitions == 2);
        CHECK(row.threads == 1);
        CHECK(row.attention_scale == 0.25);
    }

    // The study loses product: its row stays, but not in pareto.csv; results.json counts it.
    spec.caches = {"factor"};
    const trikv::StudySummary edited = trikv::run_study(spec, known_peaks());
    CHECK(edited.resumed == 1);
    CHECK(edited.stale_rows == 1);
    CHECK(trikv::read_results_csv(dir / "results.csv").size() == 2);
    std::ifstream pareto(dir / "pareto.csv"), json(dir / "results.json");
    const std::string pareto_text((std::istreambuf_iterator<char>(pareto)), std::istreambuf_iterator<char>());
    const std::string json_text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
    CHECK_THAT(pareto_text, Contains("factor"));
    CHECK_THAT(pareto_text, !Contains("product"));
    CHECK_THAT(json_text, Contains("\"rows_not_in_study\": 1"));
    fs::remove_all(dir);
}

TEST_CASE("a cache type throwing a non-trikv exception or answering NaN fails its point and the study goes on", "[study]") {
    // A plugin's make() throwing std::runtime_error, a type's attend throwing std::logic_error
    // with a newline in it (Python adds its traceback so).
    trikv::CacheType make_throws;
    make_throws.name = "test-foreign-make";
    make_throws.description = "make() throws std::runtime_error";
    make_throws.make = [](const trikv::CacheConfig&, const trikv::CacheShape&) -> std::unique_ptr<trikv::Cache> {
        throw std::runtime_error("plugin could not start");
    };
    // Types that store nothing and whose attend does `attend` (throws, or writes NaN).
    using Attend = std::function<void(std::size_t count, float* out, std::size_t width)>;
    struct Scripted final : trikv::Cache {
        Scripted(const trikv::CacheShape& shape, std::string name, Attend attend)
            : Cache(shape), name_(std::move(name)), attend_(std::move(attend)) {}
        std::string spec() const override { return name_; }
        trikv::CacheCost cost(std::size_t) const override { return {}; }
        void reserve_storage(std::size_t) override {}
        void append_tokens(std::size_t, const float*, const float*, const float*, const float*) override {}
        void attend_tokens(std::size_t count, const float*, float* out) override {
            attend_(count, out, shape_.query_width());
        }
        void clear_storage() override {}
        std::string name_;
        Attend attend_;
    };
    const auto scripted = [](const std::string& name, const std::string& description, Attend attend) {
        trikv::CacheType type;
        type.name = name;
        type.description = description;
        type.make = [name, attend](const trikv::CacheConfig&, const trikv::CacheShape& shape) -> std::unique_ptr<trikv::Cache> {
            return std::make_unique<Scripted>(shape, name, attend);
        };
        return type;
    };
    REQUIRE(trikv::register_cache(scripted("test-nan-output", "attends to NaN, as scores that overflowed would",
                                           [](std::size_t count, float* out, std::size_t width) {
                                               std::fill_n(out, count * width, std::numeric_limits<float>::quiet_NaN());
                                           })));
    REQUIRE(trikv::register_cache(scripted("test-foreign-attend", "attend throws std::logic_error",
                                           [](std::size_t, float*, std::size_t) {
                                               throw std::logic_error("attend blew up\nTraceback: line 2");
                                           })));
    REQUIRE(trikv::register_cache(make_throws));
    const fs::path dir = fresh_dir("foreign");
    const trikv::StudySpec spec = small_spec(dir, {"test-foreign-make", "factor", "test-foreign-attend", "test-nan-output"});
    const trikv::StudySummary summary = trikv::run_study(spec, known_peaks());
    CHECK(summary.failed == 3);
    CHECK(summary.measured == 1);
    std::map<std::string, std::string> reasons;
    for (const trikv::ResultRow& row : trikv::read_results_csv(dir / "results.csv"))
        reasons[row.cache_type] = row.status == trikv::PointStatus::failed ? row.reason : "ok";
    CHECK(reasons["factor"] == "ok");
    CHECK(reasons["test-foreign-make"] == "the cache threw: plugin could not start");
    CHECK(reasons["test-foreign-attend"] == "the cache threw: attend blew up");
    // A NaN output used to drop out of the error's maximum and be recorded ok with error 0.
    CHECK(reasons["test-nan-output"] ==
          "output of query 0 of a step is NaN: the scores overflow float32; lower the study's scale");
    std::ifstream json(dir / "results.json");
    const std::string json_text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
    CHECK_THAT(json_text, Contains("\"state\": \"complete\""));
    fs::remove_all(dir);
}

TEST_CASE("the resolved study TOML parses back whatever its strings hold", "[study]") {
    trikv::StudySpec spec = trikv::parse_study("caches = [\"factor\"]\nn = [8]\nd = [4]\n", "s.toml");
    spec.out = "dir \"quoted\" back\\slash\nnewline\ttab";
    spec.name = "n\"ame";
    const trikv::StudySpec back = trikv::parse_study(trikv::to_toml(spec), "resolved.toml");
    CHECK(back.out == spec.out);
    CHECK(back.name == spec.name);
}
