// Sparse study data (studies/measure/token_data.hpp, kind = sparse): exactly s non-zeros in every key
// and value row, the two support rules, seeded reproducibility, validation that names the
// field and value, the [data] sweep over nonzeros × support, and point keys of the other
// kinds unchanged by its existence.
#include <catch2/catch.hpp>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "framework/error.hpp"
#include "studies/spec/study_spec.hpp"
#include "studies/measure/token_data.hpp"

using namespace trikv;
using Catch::Contains;

namespace {

DataSpec sparse_data(std::size_t s, const std::string& support) {
    DataSpec data;
    data.kind = DataKind::sparse;
    data.nonzeros = s;
    data.support = parse_kind<Support>(support, "data.support");
    return data;
}

// The coordinates of row (h, t) that are non-zero.
std::vector<std::size_t> support_of(const Heads<double>& x, std::size_t h, std::size_t t) {
    std::vector<std::size_t> out;
    for (std::size_t l = 0; l < x.shape(2); ++l)
        if (x(h, t, l) != 0.0) out.push_back(l);
    return out;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("sparse data: every key and value row has exactly s non-zeros, queries stay dense", "[study][sparse]") {
    const std::size_t h = 2, n = 40;
    for (const std::string support : {"random", "blocks"})
        for (const auto& [d, s] : std::vector<std::pair<std::size_t, std::size_t>>{{16, 1}, {16, 4}, {16, 16}, {10, 3}}) {
            INFO("support " << support << ", d = " << d << ", s = " << s);
            const TokenData data = make_token_data(sparse_data(s, support), h, n, d, 3);
            for (const Heads<double>* x : {&data.k1, &data.k2, &data.v1, &data.v2})
                for (std::size_t head = 0; head < h; ++head)
                    for (std::size_t t = 0; t < n; ++t) REQUIRE(support_of(*x, head, t).size() == s);
            for (std::size_t head = 0; head < h; ++head)
                for (std::size_t t = 0; t < n; ++t) REQUIRE(support_of(data.q, head, t).size() == d);
        }
}

TEST_CASE("sparse data: blocks are s contiguous coordinates at a multiple of s, every offset used", "[study][sparse]") {
    for (const auto& [d, s] : std::vector<std::pair<std::size_t, std::size_t>>{{16, 4}, {10, 3}, {8, 8}}) {
        INFO("d = " << d << ", s = " << s);
        const std::size_t n = 200;
        const TokenData data = make_token_data(sparse_data(s, "blocks"), 1, n, d, 4);
        std::set<std::size_t> offsets;
        for (const Heads<double>* x : {&data.k1, &data.k2, &data.v1, &data.v2})
            for (std::size_t t = 0; t < n; ++t) {
                const std::vector<std::size_t> support = support_of(*x, 0, t);
                const std::size_t first = support.front();
                CHECK(first % s == 0);
                CHECK(support.back() == first + s - 1);  // s distinct ascending: contiguous
                CHECK(first + s <= d / s * s);           // the d mod s tail is never used
                offsets.insert(first);
            }
        CHECK(offsets.size() == d / s);
    }
}

TEST_CASE("sparse data: random supports cover the coordinates uniformly", "[study][sparse]") {
    const std::size_t d = 16, s = 4, n = 1000;
    const TokenData data = make_token_data(sparse_data(s, "random"), 1, n, d, 5);
    std::vector<std::size_t> hits(d, 0);
    bool some_row_not_contiguous = false;
    for (std::size_t t = 0; t < n; ++t) {
        const std::vector<std::size_t> support = support_of(data.k1, 0, t);
        for (std::size_t l : support) ++hits[l];
        some_row_not_contiguous |= support.back() - support.front() != s - 1;
    }
    // Each coordinate is chosen with probability s/d = 1/4: 250 of 1000 rows, sd ≈ 13.7.
    for (std::size_t l = 0; l < d; ++l) {
        INFO("coordinate " << l);
        CHECK(hits[l] > 180);
        CHECK(hits[l] < 320);
    }
    CHECK(some_row_not_contiguous);
}

TEST_CASE("sparse data is reproducible from its seed", "[study][sparse]") {
    const DataSpec spec = sparse_data(3, "random");
    const TokenData a = make_token_data(spec, 2, 30, 8, 11), b = make_token_data(spec, 2, 30, 8, 11);
    const TokenData c = make_token_data(spec, 2, 30, 8, 12);
    CHECK(a.q == b.q);
    CHECK(a.k1 == b.k1);
    CHECK(a.v2 == b.v2);
    CHECK(a.k1 != c.k1);
    const TokenData blocks = make_token_data(sparse_data(3, "blocks"), 2, 30, 8, 11);
    CHECK(blocks.k1 != a.k1);
}

TEST_CASE("sparse data: bad nonzeros and support are rejected, naming field and value", "[study][sparse]") {
    CHECK_THAT(error_of([] { make_token_data(sparse_data(0, "random"), 1, 4, 8, 1); }),
               Contains("data.nonzeros = 0") && Contains("[1, d = 8]"));
    CHECK_THAT(error_of([] { make_token_data(sparse_data(9, "random"), 1, 4, 8, 1); }), Contains("data.nonzeros = 9"));
    CHECK_THAT(error_of([] { make_token_data(sparse_data(2, "stripes"), 1, 4, 8, 1); }),
               Contains("data.support = 'stripes'"));

    auto study_error = [](const std::string& data) {
        return error_of([&] {
            validate_study(parse_study("caches = [\"product\"]\nn = [4]\nd = [16]\n[data]\nkind = \"sparse\"\n" + data, "s.toml"));
        });
    };
    CHECK(study_error("nonzeros = [4, 16]\nsupport = [\"random\", \"blocks\"]") == "no error");
    CHECK_THAT(study_error("nonzeros = 17"), Contains("data.nonzeros = 17 is out of range [1, d = 16]"));
    CHECK_THAT(study_error("nonzeros = 0"), Contains("nonzeros = 0 is out of range"));
    CHECK_THAT(study_error("nonzeros = [4, \"x\"]"), Contains("nonzeros must be an integer"));
    CHECK_THAT(study_error("support = \"stripes\""), Contains("data.support = 'stripes'"));
    CHECK_THAT(study_error("nonzero = 4"), Contains("did you mean 'nonzeros'"));
}

TEST_CASE("a sparse [data] table sweeps nonzeros × support, one data label and key per point", "[study][sparse]") {
    const StudySpec spec = parse_study(R"(
caches = ["product", "sparse-factor"]
n = [16, 32]
d = [16]
[data]
kind = "sparse"
nonzeros = [2, 4, 8]
support = ["random", "blocks"]
)", "t.toml");
    const std::vector<StudyPoint> points = expand_study(spec);
    REQUIRE(points.size() == 2 * 2 * 3 * 2);
    std::set<std::string> labels, keys;
    for (const StudyPoint& p : points) {
        labels.insert(p.data.label());
        keys.insert(p.key());
    }
    CHECK(labels.size() == 6);
    CHECK(labels.count("sparse(s=4,support=blocks)") == 1);
    CHECK(keys.size() == points.size());
    // The resolved study (stored with the results) parses back to the same points.
    const std::vector<StudyPoint> again = expand_study(parse_study(to_toml(spec), "resolved.toml"));
    REQUIRE(again.size() == points.size());
    for (std::size_t i = 0; i < points.size(); ++i) CHECK(again[i].key() == points[i].key());
}

TEST_CASE("point keys of non-sparse data are what they were before sparse data existed", "[study][sparse]") {
    // A key from results/default/results.csv written before [data] knew nonzeros and support:
    // those results must still resume.
    const StudyPoint p = point_for("product:dtype=f32", {.n = 128, .d = 64, .heads = 1, .seed = 1, .warmup = 2, .repetitions = 5});
    CHECK(p.key() == "1717582226fb1183");
    // The sweep lists do not expand (nor relabel) other kinds.
    const StudySpec spec = parse_study("caches = [\"product\"]\nn = [128]\nd = [64]\n[data]\nnonzeros = [2, 4]", "t.toml");
    const std::vector<StudyPoint> points = expand_study(spec);
    REQUIRE(points.size() == 1);
    CHECK(points[0].data.label() == "gaussian");
    CHECK(points[0].key() == "1717582226fb1183");
}
