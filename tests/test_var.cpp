// The var workload (docs/math.md §7, studies/measure/measure.cpp): scale-wise generation in blocks of r_k²
// tokens. Spec parsing and validation, the rows a point produces (one per scale plus the whole
// generation) and what they hold, resume by the point's key, results.csv files written before
// the scale columns existed, and the var-* figures.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "studies/measure/measure.hpp"
#include "studies/results/results.hpp"
#include "studies/run/study_runner.hpp"
#include "studies/spec/study_spec.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

fs::path fresh_dir(const std::string& name) { return trikv::test::fresh_dir("var-" + name); }

trikv::StudyPoint var_point(const std::string& cache, std::vector<std::size_t> schedule) {
    std::size_t tokens = 0;
    for (std::size_t side : schedule) tokens += side * side;
    return trikv::point_for(cache, {.n = tokens,
                                    .d = 8,
                                    .heads = 2,
                                    .workload = trikv::Workload::var,
                                    .schedule = std::move(schedule),
                                    .seed = 3,
                                    .warmup = 0,
                                    .repetitions = 2});
}

}  // namespace

TEST_CASE("var: the study file takes a schedule, derives n, and refuses an n sweep", "[var][study]") {
    const std::string base = "caches = [\"factor\"]\nd = [8]\nworkload = \"var\"\n";
    trikv::StudySpec spec = trikv::parse_study(base, "var.toml");
    CHECK(spec.schedule == std::vector<std::size_t>{1, 2, 3, 4, 5, 6, 8, 10, 13, 16});
    trikv::validate_study(spec);
    const auto points = trikv::expand_study(spec);
    REQUIRE(points.size() == 1);
    CHECK(points[0].n == 680);  // VAR's default schedule

    spec = trikv::parse_study(base + "schedule = [1, 3]\n", "var.toml");
    CHECK(trikv::expand_study(spec)[0].n == 10);
    // The schedule is part of a var point's key (and only of var points').
    CHECK(trikv::expand_study(spec)[0].key() != points[0].key());

    CHECK_THROWS_WITH(trikv::validate_study(trikv::parse_study(base + "n = [64]\n", "var.toml")),
                      Contains("n is not used by workload 'var'"));
    CHECK_THROWS_WITH(trikv::parse_study(base + "schedule = [0, 2]\n", "var.toml"), Contains("schedule"));
    CHECK_THROWS_WITH(trikv::parse_study(base + "schedule = []\n", "var.toml"), Contains("schedule"));
    CHECK_THROWS_WITH(trikv::validate_study(trikv::parse_study("caches = [\"factor\"]\nd = [8]\nn = [4]\nworkload = \"vra\"\n", "x.toml")),
                      Contains("workload"));
}

TEST_CASE("var: one row per scale, then the whole generation, each checked against float64", "[var][study]") {
    for (const std::string cache : {"factor", "factor:strategy=recompute", "product", "matrix"}) {
        INFO(cache);
        const trikv::StudyPoint p = var_point(cache, {1, 2, 3});
        const std::vector<trikv::ResultRow> rows = trikv::measure_point(p, {}, 1e12);
        REQUIRE(rows.size() == 4);
        const std::size_t tokens_after[] = {1, 5, 14};
        for (std::size_t k = 0; k < 3; ++k) {
            const trikv::ResultRow& row = rows[k];
            INFO("scale " << k + 1);
            CHECK(row.ok());
            CHECK(row.workload == trikv::Workload::var);
            CHECK(row.scale == k + 1);
            CHECK(row.side == p.schedule[k]);
            CHECK(row.n == tokens_after[k]);
            CHECK(row.key == p.key() + "/" + std::to_string(k + 1));
            CHECK(row.step_ms_median > 0);
            // Exact caches, float32 against the float64 computation of the same block step.
            CHECK(row.rel_l2_error > 0);
            CHECK(row.rel_l2_error < 1e-5);
            // Resident bytes are what the cache holds after the step: they never shrink.
            if (k > 0) CHECK(row.bytes >= rows[k - 1].bytes);
        }
        const trikv::ResultRow& whole = rows.back();
        CHECK(whole.scale == 0);
        CHECK(whole.n == 14);
        CHECK(whole.key == p.key());
        CHECK(whole.bytes == rows[2].bytes);
        CHECK(whole.step_ms_median >= rows[2].step_ms_min);
        CHECK(whole.rel_l2_error == std::max({rows[0].rel_l2_error, rows[1].rel_l2_error, rows[2].rel_l2_error}));
    }
}

TEST_CASE("var: every registered cache type runs the workload", "[var][study]") {
    for (const trikv::CacheType* type : trikv::cache_types()) {
        if (trikv::test::made_to_fail(type->name)) continue;
        // The var workload scores trilinearly; a type without it (pair-logits) is walked in its
        // variants by the conformance test.
        const std::vector<trikv::ScoreVariant> variants = trikv::supported_variants(trikv::parse_cache_spec(type->name));
        if (variants.front() != trikv::ScoreVariant::trilinear) continue;
        INFO(type->name);
        const std::vector<trikv::ResultRow> rows = trikv::measure_point(var_point(type->name, {1, 2}), {}, 1e12);
        REQUIRE(rows.size() == 3);
        for (const trikv::ResultRow& row : rows) CHECK(row.ok());
        if (type->exact) CHECK(rows.back().rel_l2_error < 1e-5);
    }
}

TEST_CASE("var: an approximate cache's error shows in its rows", "[var][study]") {
    // window:w1=2,w2=2 drops pairs once more than two tokens are stored: not exact at scale 2.
    const std::vector<trikv::ResultRow> rows = trikv::measure_point(var_point("window:w1=2,w2=2", {1, 2}), {}, 1e12);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].rel_l2_error < 1e-5);
    CHECK(rows[1].rel_l2_error > 1e-3);
}

TEST_CASE("var: a study resumes by point, draws var-* figures, and reads older results.csv", "[var][study]") {
    const fs::path dir = fresh_dir("study");
    trikv::StudySpec spec;
    spec.name = "var";
    spec.caches = {"factor", "matrix"};
    spec.d = {4};
    spec.workload = trikv::Workload::var;
    spec.schedule = {1, 2};
    spec.warmup = 0;
    spec.repetitions = 1;
    spec.out = dir.string();
    spec.figures = {"pareto", "scaling"};
    const trikv::StudySummary first = trikv::run_study(spec, {.peaks = trikv::MachinePeaks{100, 10, 1}});
    CHECK(first.measured == 2);
    CHECK(trikv::read_results_csv(dir / "results.csv").size() == 6);  // (2 scales + whole) × 2 caches
    const trikv::StudySummary second = trikv::run_study(spec, {.peaks = trikv::MachinePeaks{100, 10, 1}});
    CHECK(second.resumed == 2);
    CHECK(second.measured == 0);
    CHECK(trikv::read_results_csv(dir / "results.csv").size() == 6);
    for (const char* file : {"var-pareto.csv", "var-pareto.gp", "var-scaling.csv", "var-scaling.gp"})
        CHECK(fs::exists(dir / "figures" / file));
    CHECK_FALSE(fs::exists(dir / "figures" / "pareto.csv"));  // no decode rows
    std::ifstream script(dir / "figures" / "var-scaling.gp");
    const std::string text((std::istreambuf_iterator<char>(script)), std::istreambuf_iterator<char>());
    CHECK_THAT(text, Contains("'var-scaling.csv'"));
    CHECK_THAT(text, Contains("time per scale step"));

    // A results.csv written before the scale and side columns existed still reads (as decode rows).
    const std::string header = "cache,cache_type,exact,workload,n,d,heads,dtype,data,seed,bytes,transient_peak_bytes,"
                               "rss_peak_bytes,step_ms_median,step_ms_p25,step_ms_p75,step_ms_min,flops,bytes_moved,"
                               "gflops,gbps,gflops_fraction,gbps_fraction,rel_l2_error,max_abs_error,status,reason,key";
    std::ofstream(dir / "old.csv") << header << "\nproduct,product,1,decode,64,8,1,float32,gaussian,1,10,0,0,1,1,1,1,0,0,"
                                                "0,0,0,0,0,0,ok,,00000000000000ab\n";
    const auto old = trikv::read_results_csv(dir / "old.csv");
    REQUIRE(old.size() == 1);
    CHECK(old[0].n == 64);
    CHECK(old[0].scale == 0);
    CHECK(old[0].key == "00000000000000ab");
    fs::remove_all(dir);
}
