#pragma once
// Runs one shard of a study (`trikv study FILE --shard i/N`): its share of the points
// (studies/cluster/shards.hpp) into OUT/shards/ID.csv, its state into OUT/shards/ID.toml. A rerun of a
// killed shard measures only the points missing from its file.
#include "studies/cluster/shards.hpp"
#include "studies/run/study_runner.hpp"

namespace trikv {

// `peaks`: the machine's peaks if already known (tests); measured at the start otherwise.
StudySummary run_shard(const StudySpec& spec, ShardId shard, std::optional<MachinePeaks> peaks = std::nullopt);

}  // namespace trikv
