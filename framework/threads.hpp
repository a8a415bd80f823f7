#pragma once
// Thread-count control. trikv parallelises with oneTBB and calls BLAS on small tiles from
// inside TBB tasks, so OpenBLAS must stay single-threaded there or the two pools
// oversubscribe the cores. Loading the library makes OpenBLAS single-threaded for the process
// (threads.cpp); ThreadControl also caps TBB's workers for its lifetime, and BlasThreads
// raises OpenBLAS's threads around a large BLAS call of one's own.
#include <tbb/global_control.h>

#include <memory>

namespace trikv {

class ThreadControl {
public:
    // threads = 0 means "all hardware threads".
    explicit ThreadControl(int threads = 0);
    ~ThreadControl();
    ThreadControl(const ThreadControl&) = delete;
    ThreadControl& operator=(const ThreadControl&) = delete;
    int threads() const { return threads_; }

private:
    int threads_;
    std::unique_ptr<tbb::global_control> control_;
};

int hardware_threads();

// Runs BLAS with `threads` threads for its lifetime (e.g. to measure the machine's SGEMM peak
// with one large multi-threaded call), then restores single-threaded BLAS.
class BlasThreads {
public:
    explicit BlasThreads(int threads);
    ~BlasThreads();
    BlasThreads(const BlasThreads&) = delete;
    BlasThreads& operator=(const BlasThreads&) = delete;
};

}  // namespace trikv
