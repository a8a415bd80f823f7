// The trace data kind: a model's activations (python/trikv/model/traces.py) as a study's tokens,
// one (layer, head) per point, keyed by content; here on a small trace the test writes itself
// in the same layout: DIR/layer{L}/head{H}/{q,k1,k2,v1,v2}.npy, q/k/v only for a standard layer.
#include <catch2/catch.hpp>

#include <filesystem>

#include "framework/npy.hpp"
#include "studies/measure/measure.hpp"
#include "studies/results/results.hpp"
#include "studies/run/study_runner.hpp"
#include "studies/spec/study_spec.hpp"
#include "studies/measure/token_data.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

constexpr std::size_t kTokens = 12, kD = 4;

// Element i of stream s of (layer, head) is distinct from every other trace element.
double trace_value(std::size_t layer, std::size_t head, std::size_t stream, std::size_t i) {
    return 0.1 * double(layer) + 0.01 * double(head) + 0.001 * double(stream) + 1e-5 * double(i);
}

void write_head(const fs::path& dir, std::size_t layer, std::size_t head, std::vector<const char*> names) {
    const fs::path folder = dir / ("layer" + std::to_string(layer)) / ("head" + std::to_string(head));
    fs::create_directories(folder);
    for (std::size_t s = 0; s < names.size(); ++s) {
        xt::xarray<float> x = xt::zeros<float>({kTokens, kD});
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(trace_value(layer, head, s, i));
        trikv::write_npy(folder / (std::string(names[s]) + ".npy"), trikv::make_npy(x));
    }
}

// Layer 0 standard (q, k, v), layer 1 2-simplicial with two heads.
fs::path write_trace(const std::string& name) {
    const fs::path dir = trikv::test::fresh_dir("trace-" + name);
    write_head(dir, 0, 0, {"q", "k", "v"});
    for (std::size_t head : {0, 1}) write_head(dir, 1, head, {"q", "k1", "k2", "v1", "v2"});
    return dir;
}

std::string study(const fs::path& dir, const std::string& selection, const std::string& sizes = "n = [8]\n") {
    return "caches = [\"factor\"]\nd = [4]\nwarmup = 1\nrepetitions = 2\nthreads = 1\nfigures = []\n" + sizes +
           "out = \"" + (dir / "out").string() + "\"\n[data]\nkind = \"trace\"\ndir = \"" + dir.string() + "\"\n" + selection;
}

}  // namespace

TEST_CASE("trace data: one point per selected layer and head, reading that head's arrays", "[study][trace]") {
    const fs::path dir = write_trace("read");
    const auto points = trikv::expand_study(trikv::parse_study(study(dir, "layer = 1\nhead = [0, 1]\n"), "s.toml"));
    REQUIRE(points.size() == 2);
    for (std::size_t head : {0, 1}) {
        const trikv::StudyPoint& point = points[head];
        CHECK(point.data.layer == 1);
        CHECK(point.data.head == head);
        CHECK(point.data.tokens == kTokens);
        const trikv::TokenData data = trikv::make_token_data(point.data, 1, 10, kD, point.seed);
        const trikv::Heads<double>* streams[] = {&data.q, &data.k1, &data.k2, &data.v1, &data.v2};
        for (std::size_t s = 0; s < 5; ++s) {
            REQUIRE(streams[s]->shape(1) == 10);
            for (std::size_t i = 0; i < 10 * kD; ++i)
                CHECK(streams[s]->data()[i] == double(float(trace_value(1, head, s, i))));
        }
    }
    CHECK(points[0].key() != points[1].key());
    fs::remove_all(dir);
}

TEST_CASE("trace data is keyed by the selected head's content, not its folder", "[study][trace]") {
    const fs::path dir = write_trace("key");
    auto keys = [](const fs::path& trace) {
        const auto points = trikv::expand_study(trikv::parse_study(study(trace, "layer = [1]\nhead = [0, 1]\n"), "s.toml"));
        return std::make_pair(points[0].key(), points[1].key());
    };
    const auto before = keys(dir);
    fs::copy(dir, dir.string() + "-moved", fs::copy_options::recursive);
    CHECK(keys(dir.string() + "-moved") == before);
    xt::xarray<float> changed = xt::ones<float>({kTokens, kD});
    trikv::write_npy(dir / "layer1" / "head1" / "v2.npy", trikv::make_npy(changed));
    const auto after = keys(dir);
    CHECK(after.first == before.first);    // head 0 untouched
    CHECK(after.second != before.second);  // head 1 rewritten: a new point
    fs::remove_all(dir);
    fs::remove_all(dir.string() + "-moved");
}

TEST_CASE("a study runs a cache on a trace and its rows record the layer and head", "[study][trace]") {
    const fs::path dir = write_trace("run");
    const trikv::StudySpec spec = trikv::parse_study(study(dir, "layer = 1\nhead = [0, 1]\n"), "s.toml");
    trikv::validate_study(spec);
    trikv::StudyOptions options;
    options.peaks = trikv::MachinePeaks{100, 10, 1};
    trikv::run_study(spec, options);
    const auto rows = trikv::read_results_csv(dir / "out" / "results.csv");
    REQUIRE(rows.size() == 2);
    for (const trikv::ResultRow& row : rows) {
        CHECK(row.ok());
        CHECK(row.trace_layer == "1");
        CHECK(row.rel_l2_error < 1e-5);  // factor is exact: the float64 reference ran on the same trace
        CHECK_THAT(row.data, Contains("layer=1"));
    }
    CHECK(rows[0].trace_head != rows[1].trace_head);
    fs::remove_all(dir);
}

TEST_CASE("a bad trace selection is a one-line error naming it", "[study][trace]") {
    const fs::path dir = write_trace("bad");
    auto expand = [&](const std::string& selection, const std::string& sizes = "n = [8]\n") {
        const trikv::StudySpec spec = trikv::parse_study(study(dir, selection, sizes), "s.toml");
        trikv::validate_study(spec);
    };
    CHECK_THROWS_WITH(expand("layer = 0\nhead = 0\n"), Contains("data.layer = 0") && Contains("2-simplicial"));
    CHECK_THROWS_WITH(expand("layer = 1\nhead = 2\n"), Contains("data.head = 2") && Contains("does not exist"));
    CHECK_THROWS_WITH(expand("layer = 1\n"), Contains("needs data.layer and data.head"));
    CHECK_THROWS_WITH(expand("layer = 1\nhead = 0\n", "n = [8]\nheads = [2]\n"), Contains("heads must be [1]"));
    CHECK_THROWS_WITH(expand("layer = -1\nhead = 0\n"), Contains("layer"));
    CHECK_THROWS_WITH(expand("layer = 1\nhead = 0\n", "n = [11]\n"), Contains("holds 12 tokens"));
    fs::remove_all(dir);
}
