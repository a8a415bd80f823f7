#include "studies/cluster/shards.hpp"

#include <algorithm>
#include <charconv>

#include "framework/error.hpp"
#include "studies/measure/measure.hpp"

namespace trikv {

std::string ShardId::label() const { return std::to_string(index) + "/" + std::to_string(count); }
std::string ShardId::file_stem() const { return std::to_string(index) + "-of-" + std::to_string(count); }

ShardId parse_shard(const std::string& text, const std::string& option) {
    const std::string shown = text.size() > 40 ? text.substr(0, 40) + "..." : text;
    const std::string error = option + ": '" + shown + "': expected i/N with 0 <= i < N <= " + std::to_string(kMaxShards);
    const std::size_t slash = text.find('/');
    require(slash != std::string::npos, error);
    ShardId shard;
    const auto whole = [&](const char* first, const char* last, std::size_t& value) {
        const auto [end, code] = std::from_chars(first, last, value);
        require(first != last && code == std::errc() && end == last, error);
    };
    whole(text.data(), text.data() + slash, shard.index);
    whole(text.data() + slash + 1, text.data() + text.size(), shard.count);
    require(shard.count >= 1 && shard.count <= kMaxShards && shard.index < shard.count, error);
    return shard;
}

std::vector<std::vector<std::string>> partition_keys(std::vector<WeightedKey> items, std::size_t shards) {
    require(shards >= 1, "shards: 0: must be at least 1");
    std::sort(items.begin(), items.end(), [](const WeightedKey& a, const WeightedKey& b) {
        return a.cost != b.cost ? a.cost > b.cost : a.key < b.key;
    });
    std::set<std::string> placed;
    std::vector<std::vector<std::string>> keys(shards);
    std::vector<double> load(shards, 0.0);
    for (const WeightedKey& item : items) {
        if (!placed.insert(item.key).second) continue;
        std::size_t lightest = 0;
        for (std::size_t i = 1; i < shards; ++i)
            if (std::pair(load[i], keys[i].size()) < std::pair(load[lightest], keys[lightest].size())) lightest = i;
        keys[lightest].push_back(item.key);
        load[lightest] += item.cost;
    }
    return keys;
}

std::set<std::string> shard_point_keys(const std::vector<StudyPoint>& points, ShardId shard) {
    std::vector<WeightedKey> items;
    for (const StudyPoint& point : points) items.push_back({point.key(), projected_work(point)});
    const std::vector<std::string> keys = partition_keys(std::move(items), shard.count)[shard.index];
    return {keys.begin(), keys.end()};
}

}  // namespace trikv
