// framework/threads.hpp: OpenBLAS is single-threaded as soon as the library is loaded, before
// any ThreadControl, because trikv calls BLAS from inside TBB tasks (a multi-threaded OpenBLAS
// there made attends 2.5–4.5× slower). (No ';' in test names: CMake splits them there.) Each test case runs in a fresh process (ctest), so this
// sees the state the library's load left; on a machine with one core OpenBLAS defaults to one
// thread anyway and the first check cannot fail there.
#include <catch2/catch.hpp>

#include <cblas.h>

#include <memory>

#include "caches/registry.hpp"
#include "framework/threads.hpp"

using namespace trikv;

TEST_CASE("loading trikv leaves OpenBLAS single-threaded, BlasThreads raises it and restores 1", "[threads]") {
    CHECK(openblas_get_num_threads() == 1);
    {
        const BlasThreads blas(hardware_threads());
        CHECK(openblas_get_num_threads() == hardware_threads());
    }
    CHECK(openblas_get_num_threads() == 1);
}

TEST_CASE("worker_count is what a ThreadControl allows, and cost models scale with it", "[threads]") {
    // The fused factor cache models one scratch tile set per worker (caches/factor_cache.cpp).
    const std::unique_ptr<Cache> cache = make_cache("factor:strategy=fused", {2, 16, 1.0 / 16});
    double one_worker = 0;
    {
        const ThreadControl one(1);
        CHECK(worker_count() == 1);
        one_worker = cache->cost(1000).transient_bytes;
    }
    const ThreadControl all(0);
    CHECK(worker_count() == hardware_threads());
    CHECK(one_worker > 0);
    CHECK(cache->cost(1000).transient_bytes == hardware_threads() * one_worker);
}
