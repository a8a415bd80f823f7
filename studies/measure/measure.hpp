#pragma once
// Measures one study point and checks every step against the exact float64 computation.
// decode: fill a cache to n tokens, then time steps of (append one token, attend its query).
// var: generate scale by scale (docs/math.md §7), a block of r_k² tokens and queries per step.
#include "studies/measure/machine_peaks.hpp"
#include "studies/results/results.hpp"
#include "studies/spec/study_spec.hpp"

namespace trikv {

// Fills the configuration columns of a row (everything but the measurements).
ResultRow describe_point(const StudyPoint& point);

// Projected peak bytes of the point: the cache's cost model (storage after every step plus one
// step's scratch) and what the harness itself holds (harness_bytes). With the memory the
// process already holds, what the memory limit is checked against before anything runs.
double projected_bytes(const StudyPoint& point);
// The same from the point's cache, already built (measure_point builds it once).
double projected_bytes(const StudyPoint& point, const Cache& cache);
// The harness's share: the float64 token streams (and, for npy data, one array's copies while
// loading), the float32 rows staged for a step, the step's outputs and their float64
// reference, and the reference kernel's per-worker scratch.
double harness_bytes(const StudyPoint& point);
// The process's resident bytes now (VmRSS).
double resident_bytes();

// Projected work of measuring the point, from the cache's cost model: flops plus bytes moved
// of every step, warm-up included (var: every scale's block). It ranks points by cost to
// balance shards (studies/cluster/shards.hpp); it is not a time.
double projected_work(const StudyPoint& point);

// Runs the point: one row for decode; for var one row per scale, then the whole generation
// (its key is the point's). When resident_bytes() + projected_bytes() exceed the memory limit:
// one row, status "skipped" with the reason, nothing attempted. A trikv::Error or allocation failure: one row, status "failed".
std::vector<ResultRow> measure_point(const StudyPoint& point, const MachinePeaks& peaks, double mem_limit_bytes);

// Memory the system reports as available now (MemAvailable), in bytes.
double available_memory_bytes();
// A memory limit in bytes: its byte count, or its percentage of the memory available now (0: none).
double memory_limit(const MemLimit& limit);

}  // namespace trikv
