#pragma once
// `trikv study FILE --status`: the progress of a sharded study, read from its directory alone
// (OUT/shards/: each shard's state file and rows), so it works from any machine that sees it.
#include <ostream>

#include "studies/spec/study_spec.hpp"

namespace trikv {

struct StatusCounts {
    std::size_t done = 0, running = 0, failed = 0, not_started = 0;
};

// One line per shard, then a summary line. A shard recorded as running on this host whose
// process is gone is reported as interrupted and counted as failed (rerun it to resume).
StatusCounts print_study_status(const StudySpec& spec, std::ostream& out);

}  // namespace trikv
