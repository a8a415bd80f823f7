#pragma once
// Measures one study point and checks every step against the exact float64 computation.
// decode: fill a cache to n tokens, then time steps of (append one token, attend its query).
// var: generate scale by scale (SPEC §7), a block of r_k² tokens and queries per step.
#include "studies/machine_peaks.hpp"
#include "studies/results.hpp"
#include "studies/study_spec.hpp"

namespace trikv {

// Fills the configuration columns of a row (everything but the measurements).
ResultRow describe_point(const StudyPoint& point);

// Projected peak bytes of the point from the cache's cost model (storage after every step
// plus one step's scratch): what the memory limit is checked against before anything runs.
double projected_bytes(const StudyPoint& point);

// Projected work of measuring the point, from the cache's cost model: flops plus bytes moved
// of every step, warm-up included (var: every scale's block). It ranks points by cost to
// balance shards (studies/shards.hpp); it is not a time.
double projected_work(const StudyPoint& point);

// Runs the point: one row for decode; for var one row per scale, then the whole generation
// (its key is the point's). Over the memory limit: one row, status "skipped" with the reason,
// nothing attempted. A trikv::Error or allocation failure: one row, status "failed".
std::vector<ResultRow> measure_point(const StudyPoint& point, const MachinePeaks& peaks, double mem_limit_bytes);

// Memory the system reports as available now (MemAvailable), in bytes.
double available_memory_bytes();

}  // namespace trikv
