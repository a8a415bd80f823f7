// framework/threads.hpp: OpenBLAS is single-threaded as soon as the library is loaded, before
// any ThreadControl, because trikv calls BLAS from inside TBB tasks (a multi-threaded OpenBLAS
// there made attends 2.5–4.5× slower). (No ';' in test names: CMake splits them there.) Each test case runs in a fresh process (ctest), so this
// sees the state the library's load left; on a machine with one core OpenBLAS defaults to one
// thread anyway and the first check cannot fail there.
#include <catch2/catch.hpp>

#include <cblas.h>

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
