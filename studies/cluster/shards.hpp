#pragma once
// Sharding a study (docs/cluster.md): shard i of N measures a fixed share of the study's points,
// chosen by a stable partition of the point keys balanced by each point's projected work
// (studies/measure/measure.hpp), so that shards take similar time. Shards never write the same file:
// each keeps its rows and its state under OUT/shards/ (studies/cluster/shard_run.hpp), and the merge
// combines them (studies/cluster/shard_merge.hpp).
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "studies/spec/study_spec.hpp"

namespace trikv {

struct ShardId {
    std::size_t index = 0, count = 1;  // 0 ≤ index < count
    std::string label() const;         // "1/4", as given to --shard
    std::string file_stem() const;     // "1-of-4": OUT/shards/1-of-4.csv and .toml
};

// Parses "i/N" (0 ≤ i < N ≤ kMaxShards); `option` names the option in the error.
ShardId parse_shard(const std::string& text, const std::string& option = "--shard");
inline constexpr std::size_t kMaxShards = 100000;

struct WeightedKey {
    std::string key;
    double cost = 0;
};

// Greedy longest-processing-time: items by cost, largest first (equal costs: smaller key first),
// each to the shard with the least cost so far (equal loads: fewer keys, then the lower
// index, so that points of no projected cost still spread). Deterministic:
// the same keys and costs give the same partition in whatever order they come. A key listed
// more than once is placed once. Result: the keys of each of the `shards` shards.
std::vector<std::vector<std::string>> partition_keys(std::vector<WeightedKey> items, std::size_t shards);

// The keys of `shard`'s share of the points, weighted by projected_work.
std::set<std::string> shard_point_keys(const std::vector<StudyPoint>& points, ShardId shard);

// OUT/shards: every shard's rows (ID.csv) and state (ID.toml).
inline std::filesystem::path shards_dir(const std::filesystem::path& out) { return out / "shards"; }

}  // namespace trikv
