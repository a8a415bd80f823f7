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

// Workers a parallel kernel runs on here and now: the current task arena's concurrency, which
// a ThreadControl (--threads) caps. Kernels (how finely to split work) and cost models (how
// many per-worker scratch sets one attend holds) read it only through this function. It is
// read, not passed, because cost(tokens) belongs to the public Cache interface and means "this
// cache under the thread setting in force": threading a count through every caller would add
// a parameter whose only correct value is this one. One reader keeps that single piece of
// global state in one named place, and a test pins it with a ThreadControl.
int worker_count();

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
