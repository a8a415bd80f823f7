// Byte budgets (caches/budget.hpp, studies/spec/budget.hpp): each type's most accurate setting
// that fits, checked against the allocator-counted bytes of EVERY setting of its ladder (the
// fitted one holds at most the budget, each more accurate one more), and the study's `budget` key.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>

#include "caches/budget.hpp"
#include "cli_support.hpp"
#include "framework/error.hpp"
#include "framework/rng.hpp"
#include "studies/measure/measure.hpp"
#include "studies/spec/study_spec.hpp"

namespace {

using Catch::Contains;

// One sequence of N(0, 1) keys and values, [tokens, kv_heads, d] each.
struct Sequence {
    std::vector<float> k1, k2, v1, v2;
    Sequence(std::size_t tokens, const trikv::CacheShape& shape, std::uint64_t seed) {
        trikv::Rng rng(seed);
        for (std::vector<float>* x : {&k1, &k2, &v1, &v2})
            for (std::size_t i = 0; i < tokens * shape.kv_width(); ++i) x->push_back(float(rng.normal()));
    }
    trikv::BudgetData data(std::size_t tokens) const { return {tokens, k1.data(), k2.data(), v1.data(), v2.data()}; }
};

// The reference: bytes counted through the allocator after appending the sequence.
std::size_t counted_bytes(const std::string& spec, const trikv::CacheShape& shape, const Sequence& sequence,
                          std::size_t tokens) {
    const auto cache = trikv::make_cache(spec, shape);
    cache->append(tokens, sequence.k1.data(), sequence.k2.data(), sequence.v1.data(), sequence.v2.data());
    return cache->bytes();
}

}  // namespace

TEST_CASE("budget: every type with a budget rule fits its most accurate setting, by counted bytes", "[budget]") {
    const std::size_t tokens = 32;
    const trikv::CacheShape shape{.heads = 4, .dim = 8, .scale = 0, .kv_heads = 2};
    const Sequence sequence(tokens, shape, 7);
    const std::vector<trikv::BudgetData> data = {sequence.data(tokens)};
    const std::size_t reference = counted_bytes(trikv::kBudgetReference, shape, sequence, tokens);
    const trikv::BudgetScope scope{.tokens = tokens};
    std::set<std::string> with_rule;
    for (const trikv::CacheType* type : trikv::cache_types()) {
        if (!type->accuracy_ladder) continue;
        with_rule.insert(type->name);
        const std::vector<std::string> ladder = trikv::accuracy_ladder(type->name, scope);
        REQUIRE(ladder.size() >= 2);
        for (const std::string& step : ladder)  // the bound fitting prunes with: data only adds
            CHECK(trikv::least_bytes(step, shape, tokens) <= counted_bytes(step, shape, sequence, tokens));
        for (const double fraction : {0.0001, 0.05, 0.25, 0.6, 1.0, 3.0}) {
            const auto budget = static_cast<std::size_t>(fraction * double(reference));
            INFO(type->name << " at " << fraction << " of factor's " << reference << " bytes");
            const auto fit = trikv::fit_budget(type->name, shape, budget, scope, data);
            std::size_t first_above = 0;  // ladder index from which every setting must exceed the budget
            if (fit) {
                CHECK(fit->bytes == counted_bytes(fit->spec, shape, sequence, tokens));
                CHECK(fit->bytes <= budget);
                first_above = std::size_t(std::find(ladder.begin(), ladder.end(), fit->spec) - ladder.begin()) + 1;
                REQUIRE(first_above <= ladder.size());
            }
            for (std::size_t i = first_above; i < ladder.size(); ++i) {
                INFO("more accurate: " << ladder[i]);
                CHECK(counted_bytes(ladder[i], shape, sequence, tokens) > budget);
            }
        }
        // The tightest budget fits nothing; an ample one fits the top of the ladder.
        CHECK_FALSE(trikv::fit_budget(type->name, shape, 1, scope, data));
        CHECK(trikv::fit_budget(type->name, shape, std::size_t(1) << 40, scope, data)->spec == ladder.back());
    }
    CHECK(with_rule == std::set<std::string>{"factor", "poly", "product", "subgen2", "subgen4", "window"});
}

TEST_CASE("budget: ladders keep the spec's other parameters, respect caps, and stay within the sequence", "[budget]") {
    const trikv::CacheShape shape{.heads = 2, .dim = 8, .scale = 0, .kv_heads = 1};
    const trikv::BudgetScope scope{.tokens = 24};
    // The top window covers the 24 tokens (24 itself, not only powers of two); more pairs is higher.
    const std::vector<std::string> windows = trikv::accuracy_ladder("window", scope);
    CHECK(windows.front() == "window:w1=1,w2=1");
    CHECK(windows.back() == "window:w1=24,w2=24");
    CHECK(std::find(windows.begin(), windows.end(), "window:w1=16,w2=8") >
          std::find(windows.begin(), windows.end(), "window:w1=8,w2=8"));
    const trikv::BudgetScope capped{.tokens = 24, .at_most = {{"w1", 4}, {"w2", 16}}};
    CHECK(trikv::fit_budget("window", shape, std::size_t(1) << 30, capped)->spec == "window:w1=4,w2=16");
    CHECK(trikv::accuracy_ladder("factor:strategy=recompute", scope) ==
          std::vector<std::string>{"factor:strategy=recompute,dtype=int8", "factor:strategy=recompute,dtype=bf16",
                                   "factor:strategy=recompute,dtype=fp16"});
    for (const std::string& step : trikv::accuracy_ladder("subgen4:delta=0.25,values=16", scope))
        CHECK_THAT(step, Contains("delta=0.25") && Contains("values=16"));
    // SubGen's bytes depend on its keys: counting it on nothing is refused, not guessed.
    CHECK_THROWS_WITH(trikv::budget_bytes("subgen4", shape, 24), Contains("depend on the keys"));
    CHECK_THROWS_WITH(trikv::accuracy_ladder("hybrid", scope), Contains("has no budget rule"));
}

TEST_CASE("budget: text is a positive percentage or a whole number of bytes", "[budget]") {
    const trikv::CacheShape shape{.heads = 2, .dim = 8, .scale = 0, .kv_heads = 2};
    const trikv::Budget quarter = trikv::Budget::parse("25%", "s.toml: budget");
    CHECK(quarter.resolve(shape, 40) ==
          std::size_t(0.25 * trikv::make_cache("factor", shape)->cost(40).resident_bytes));
    CHECK(trikv::Budget::parse("2.5%", "b").fraction == 0.025);
    CHECK(trikv::Budget::parse("65536", "b").resolve(shape, 40) == 65536);
    for (const char* bad : {"", "%", "0%", "-5%", "lots", "1.5", "0", "-3", "nan%", "inf", "25 %", "1e30"})
        CHECK_THROWS_WITH(trikv::Budget::parse(bad, "s.toml: budget"),
                          Contains("s.toml: budget = '" + std::string(bad) + "' is neither"));
}

TEST_CASE("study: the budget key fits each approximate cache per point and says so in its row", "[budget][study]") {
    const std::string text = R"(
caches = ["factor", "window", "subgen4", "poly"]
budget = ["50%", 64]
n = [256]
d = [8]
heads = [2]
warmup = 0
repetitions = 1
[data]
kind = "clustered"
)";
    const trikv::StudySpec spec = trikv::parse_study(text, "s.toml");
    const std::vector<trikv::StudyPoint> points = trikv::expand_study(spec);
    std::map<std::string, std::vector<const trikv::StudyPoint*>> by_type;
    std::set<std::string> keys;
    for (const trikv::StudyPoint& point : points) {
        by_type[point.type->name].push_back(&point);
        keys.insert(point.key());
    }
    CHECK(keys.size() == points.size());
    REQUIRE(by_type["factor"].size() == 1);  // exact: the reference, once, unbudgeted
    CHECK(by_type["factor"][0]->budget.empty());
    const std::size_t half = trikv::Budget::parse("50%", "b").resolve(by_type["factor"][0]->shape(), 256);
    for (const char* family : {"window", "subgen4", "poly"}) {
        REQUIRE(by_type[family].size() == 2);
        for (const trikv::StudyPoint* point : by_type[family]) {
            INFO(point->cache << " at " << point->budget);
            const std::vector<trikv::ResultRow> rows = trikv::measure_point(*point, {}, 1e12);
            REQUIRE(rows.size() == 1);
            CHECK(rows[0].budget == point->budget);
            if (point->budget == "64") {  // 64 bytes hold no setting: skipped, with the reason
                CHECK(rows[0].status == trikv::PointStatus::skipped);
                CHECK_THAT(rows[0].reason, Contains("fits the budget 64"));
                continue;
            }
            CHECK(point->budget == "50%");
            CHECK(point->unfit.empty());
            CHECK(rows[0].status == trikv::PointStatus::ok);
            // The fitted spec is the point's own and its key differs from the unbudgeted point's.
            const trikv::StudyPoint plain = trikv::point_for(point->cache, {.n = point->n, .d = point->d,
                                                                            .heads = point->heads});
            CHECK(plain.key() != trikv::point_for(point->cache, *point).key());
            if (point->type->bytes_depend_on_data) continue;  // more tokens than n may open clusters
            CHECK(rows[0].bytes <= double(half));
        }
    }
    // The resolved study runs the same points.
    std::set<std::string> again;
    for (const trikv::StudyPoint& point : trikv::expand_study(trikv::parse_study(trikv::to_toml(spec), "r.toml")))
        again.insert(point.key());
    CHECK(again == keys);
}

TEST_CASE("cli: study refuses a bad budget in one line naming the field and the value", "[budget][cli]") {
    using namespace trikv::test::cli;
    const TempDir dir;
    for (const char* bad : {"\"lots\"", "\"0%\"", "[]", "1.5"}) {
        std::ofstream(dir.in("budget.toml")) << "caches = [\"window\"]\nn = [8]\nd = [4]\nbudget = " << bad << "\n";
        require_one_line_failure(dir, "study " + quote(dir.in("budget.toml").string()) + " --out " +
                                          quote(dir.out("s").string()), "budget");
    }
}
