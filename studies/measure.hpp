#pragma once
// Measures one study point: fill a cache to n tokens, then time decode steps (append one
// token, attend its query) and check every step against the exact float64 computation.
#include "studies/machine_peaks.hpp"
#include "studies/results.hpp"
#include "studies/study_spec.hpp"

namespace trikv {

// Fills the configuration columns of a row (everything but the measurements).
ResultRow describe_point(const StudyPoint& point);

// Projected peak bytes of the point from the cache's cost model (storage after every step
// plus one step's scratch): what the memory limit is checked against before anything runs.
double projected_bytes(const StudyPoint& point);

// Runs the point. Over the memory limit: status "skipped" with the reason, nothing attempted.
// A trikv::Error or allocation failure: status "failed" with the message.
ResultRow measure_point(const StudyPoint& point, const MachinePeaks& peaks, double mem_limit_bytes);

// Memory the system reports as available now (MemAvailable), in bytes.
double available_memory_bytes();

}  // namespace trikv
