#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UBSan (build-asan/). ThreadSanitizer has its
# own script, scripts/tsan.sh, because it needs an instrumented oneTBB.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIKV_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
# detect_leaks=0: oneTBB keeps its worker pool alive past exit by design. The local-Slurm test
# is left out (test.sh runs it; the shard code runs in-process in tests/test_shard_merge.cpp).
# The test holding a point's peak RSS to its projected bytes is left out too: under a
# sanitizer the resident set also holds shadow memory and the allocator's quarantine, which
# no projection of the program's own allocations can include (test.sh runs it).
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan --no-tests=error --output-on-failure -j"$jobs" -E "consumer|slurm:|admitted under the memory limit"

