#include "framework/threads.hpp"

#include <cblas.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <string>

#include "framework/error.hpp"

namespace trikv {

int hardware_threads() { return tbb::info::default_concurrency(); }

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
