// The shard partition of a study (studies/cluster/shards.hpp): every key in exactly one shard, the
// same partition whatever the input order, loads balanced as greedy longest-processing-time
// guarantees, and "i/N" parsed strictly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "framework/error.hpp"
#include "studies/cluster/shards.hpp"
#include "studies/spec/study_spec.hpp"

using Catch::Contains;

namespace {

std::vector<trikv::WeightedKey> random_items(std::size_t count, unsigned seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<double> cost(1, 1000);
    std::vector<trikv::WeightedKey> items;
    for (std::size_t i = 0; i < count; ++i) items.push_back({"key" + std::to_string(i), cost(random)});
    return items;
}

}  // namespace

TEST_CASE("the partition places every key in exactly one shard", "[shards]") {
    const std::vector<trikv::WeightedKey> items = random_items(97, 1);
    const auto shards = trikv::partition_keys(items, 5);
    REQUIRE(shards.size() == 5);
    std::multiset<std::string> placed;
    for (const auto& keys : shards) placed.insert(keys.begin(), keys.end());
    CHECK(placed.size() == items.size());
    for (const trikv::WeightedKey& item : items) CHECK(placed.count(item.key) == 1);
}

TEST_CASE("the partition does not depend on the order of the keys", "[shards]") {
    std::vector<trikv::WeightedKey> items = random_items(60, 2);
    items.push_back({"tie-b", 500});  // equal costs are ordered by key
    items.push_back({"tie-a", 500});
    const auto first = trikv::partition_keys(items, 4);
    std::mt19937 random(3);
    for (int trial = 0; trial < 5; ++trial) {
        std::shuffle(items.begin(), items.end(), random);
        auto again = trikv::partition_keys(items, 4);
        for (std::size_t s = 0; s < 4; ++s) {
            auto a = first[s], b = again[s];
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            CHECK(a == b);
        }
    }
}

TEST_CASE("the partition balances costs within the largest single cost", "[shards]") {
    // Greedy list scheduling: the heaviest shard was the lightest when its last key came, so
    // the spread of the loads is at most that key's cost.
    const std::vector<trikv::WeightedKey> items = random_items(200, 4);
    std::map<std::string, double> cost;
    double largest = 0;
    for (const auto& item : items) {
        cost[item.key] = item.cost;
        largest = std::max(largest, item.cost);
    }
    for (std::size_t count : {2, 3, 7, 16}) {
        std::vector<double> load;
        for (const auto& keys : trikv::partition_keys(items, count)) {
            double sum = 0;
            for (const std::string& key : keys) sum += cost[key];
            load.push_back(sum);
        }
        CHECK(*std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()) <= largest);
    }
}

TEST_CASE("keys of no cost still spread, and a repeated key is placed once", "[shards]") {
    std::vector<trikv::WeightedKey> items;
    for (int i = 0; i < 10; ++i) items.push_back({std::to_string(i), 0});
    items.push_back({"3", 0});
    const auto shards = trikv::partition_keys(items, 3);
    std::vector<std::size_t> sizes;
    for (const auto& keys : shards) sizes.push_back(keys.size());
    CHECK(sizes == std::vector<std::size_t>{4, 3, 3});
    CHECK(trikv::partition_keys(items, 20).size() == 20);  // more shards than keys: some stay empty
}

TEST_CASE("a study's shards cover its points exactly once", "[shards]") {
    trikv::StudySpec spec;
    spec.caches = {"product", "factor:strategy=fused", "matrix"};
    spec.n = {16, 64, 256};
    spec.d = {8, 16};
    const std::vector<trikv::StudyPoint> points = trikv::expand_study(spec);
    std::multiset<std::string> placed;
    for (std::size_t i = 0; i < 4; ++i) {
        const std::set<std::string> keys = trikv::shard_point_keys(points, {i, 4});
        CHECK(!keys.empty());
        CHECK(keys == trikv::shard_point_keys(points, {i, 4}));  // stable
        placed.insert(keys.begin(), keys.end());
    }
    CHECK(placed.size() == points.size());
    for (const trikv::StudyPoint& point : points) CHECK(placed.count(point.key()) == 1);
}

TEST_CASE("shard ids parse as i/N with 0 <= i < N", "[shards]") {
    const trikv::ShardId shard = trikv::parse_shard("2/5");
    CHECK(shard.index == 2);
    CHECK(shard.count == 5);
    CHECK(shard.label() == "2/5");
    CHECK(shard.file_stem() == "2-of-5");
    for (const char* bad : {"5/5", "1", "/3", "1/", "-1/3", "1/0", "a/3", "1/3x", "1/999999999999999999999", ""})
        CHECK_THROWS_WITH(trikv::parse_shard(bad), Contains(std::string("--shard: '").append(bad).append("': expected i/N")));
}
