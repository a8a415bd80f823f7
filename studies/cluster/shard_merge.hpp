#pragma once
// Combines a sharded study (`trikv study FILE --merge`): every shard's rows and any earlier
// OUT/results.csv into OUT/results.csv (one row per key, in the study's point order), then
// pareto.csv, figures/ and results.json through finish_study (studies/run/finish.hpp: the same
// schema and fronts as an unsharded run; every shard's machine, peaks, start and end). Safe to
// repeat, and safe with shards missing or still running: it merges what is there and says
// which points are missing and in which shards.
// Rows measured on different machines (the results' host column) are never joined into one
// front: with more than one host, fronts are computed per host and figures are drawn per host
// into figures/HOST/, and a note says so.
#include <string>
#include <vector>

#include "studies/spec/study_spec.hpp"

namespace trikv {

struct MergeReport {
    std::size_t points = 0, present = 0;  // the study's points; those with a row
    std::vector<std::string> hosts;       // hosts that measured the rows, sorted
    std::vector<std::string> notes;       // missing points by shard, hosts, figures
    bool complete() const { return present == points; }
};

// Holds the study's run lock while it merges: refuses when an unsharded run holds it, or waits
// for it with `wait`. results.csv is read and replaced under its own lock (ResultsFile::rewrite).
MergeReport merge_shards(const StudySpec& spec, bool wait = false);

}  // namespace trikv
