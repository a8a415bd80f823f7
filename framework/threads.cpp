#include "framework/threads.hpp"

#include <cblas.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "framework/error.hpp"

namespace trikv {

namespace {
// trikv calls BLAS on small tiles from inside TBB tasks, where a multi-threaded OpenBLAS fights
// TBB for the cores: a program that loaded the library without a ThreadControl attended 2.5–4.5×
// slower (factor, n = 2048, d = 64: 15–33 ms against 6.7–7.4 ms). So OpenBLAS is single-threaded
// from the moment the library loads, for the whole process; BlasThreads raises it around one
// large call of one's own (the SGEMM peak does). OpenBLAS's own constructor has run by then:
// libtrikv depends on it, and the loader initialises dependencies first.
[[maybe_unused]] const bool single_threaded_blas = [] {
    openblas_set_num_threads(1);
    return true;
}();
}  // namespace

int hardware_threads() { return tbb::info::default_concurrency(); }

// The arena's concurrency alone ignores a ThreadControl's cap: under ThreadControl(1) it still
// said 2 here, so cost models counted two workers' scratch and kernels split work for two.
int worker_count() {
    const std::size_t cap = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
    return static_cast<int>(std::min(cap, static_cast<std::size_t>(tbb::this_task_arena::max_concurrency())));
}

ThreadControl::ThreadControl(int threads) : threads_(threads == 0 ? hardware_threads() : threads) {
    require(threads >= 0, "threads: " + std::to_string(threads) + " is negative; expected 0 (all) or a positive count");
    control_ = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                     static_cast<std::size_t>(threads_));
    openblas_set_num_threads(1);
}

ThreadControl::~ThreadControl() = default;

BlasThreads::BlasThreads(int threads) { openblas_set_num_threads(threads); }
BlasThreads::~BlasThreads() { openblas_set_num_threads(1); }

}  // namespace trikv
