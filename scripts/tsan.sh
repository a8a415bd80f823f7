#!/usr/bin/env bash
# The test suite under ThreadSanitizer (build-tsan/), against a oneTBB built with
# -fsanitize=thread: Debian's libtbb is not instrumented, so TSan would not see TBB's own
# synchronisation and would report every task hand-off as a race. The instrumented oneTBB is
# built from the very source Debian 12 ships (2021.8.0, checksum pinned below) and kept in
# build-tsan/onetbb/ so reruns skip it. Any TSan report fails the script (see
# docs/reliability.md for what this covers).
set -euo pipefail
cd "$(dirname "$0")/.."
# GCC's TSan runtime (libtsan2) instruments both oneTBB and trikv; curl and xz fetch the source.
TRIKV_EXTRA_PACKAGES="libtsan2 curl xz-utils" ./scripts/setup.sh
jobs=$(nproc)

# Debian 12's onetbb source package (the .dsc lists this checksum). Debian's patches only touch
# other architectures, TBB's own tests and warning flags, so the upstream tarball builds the
# same libtbb on amd64.
tbb_version=2021.8.0
tbb_tarball=onetbb_${tbb_version}.orig.tar.xz
tbb_sha256=7e9111b8bb59c8800bf6d0b06afe7b0891937443d2dae1ee1101c8e2ede6a7ef
tbb_url=https://deb.debian.org/debian/pool/main/o/onetbb/$tbb_tarball
tbb_dir=build-tsan/onetbb
tbb_prefix=$tbb_dir/install
tbb_stamp=$tbb_prefix/built-from-$tbb_sha256

if [ ! -e "$tbb_stamp" ]; then
  echo "tsan: building oneTBB $tbb_version with -fsanitize=thread into $tbb_prefix" >&2
  rm -rf "$tbb_dir"
  mkdir -p "$tbb_dir"
  curl -fsSL --retry 3 -o "$tbb_dir/$tbb_tarball" "$tbb_url"
  echo "$tbb_sha256  $tbb_dir/$tbb_tarball" | sha256sum -c --quiet -
  tar -xJf "$tbb_dir/$tbb_tarball" -C "$tbb_dir"
  # Only libtbb (trikv uses neither tbbmalloc nor tbbbind), no tests; TBB_STRICT=OFF because
  # GCC 12 warns (-Wtsan) that TSan does not model atomic_thread_fence, and TBB would make that
  # an error. RelWithDebInfo so that reports show TBB's frames with lines.
  cmake -S "$tbb_dir/oneTBB-$tbb_version" -B "$tbb_dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTBB_SANITIZE=thread -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBB_STRICT=OFF \
    -DTBBMALLOC_BUILD=OFF -DTBB_DISABLE_HWLOC_AUTOMATIC_SEARCH=ON \
    -DCMAKE_INSTALL_PREFIX="$PWD/$tbb_prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$tbb_dir/build" -j"$jobs" >"$tbb_dir/build.log" 2>&1 \
    || { tail -40 "$tbb_dir/build.log"; echo "tsan: building oneTBB failed" >&2; exit 1; }
  cmake --install "$tbb_dir/build" >/dev/null
  touch "$tbb_stamp"
fi

# TBB_DIR points find_package(TBB) at the instrumented build; the build tree's RUNPATH then
# names its lib/, which the ldd check below confirms (a silent fall-back to Debian's libtbb
# would bring back the false reports).
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIKV_TSAN=ON \
  -DTBB_DIR="$PWD/$tbb_prefix/lib/cmake/TBB" >/dev/null
cmake --build build-tsan -j"$jobs"
for binary in build-tsan/bin/trikv_tests build-tsan/bin/trikv; do
  loaded=$(ldd "$binary" | awk '$1 == "libtbb.so.12" {print $3}')
  [ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$tbb_prefix/lib/libtbb.so.12")" ] \
    || { echo "tsan: $binary loads libtbb from '$loaded', not the instrumented $tbb_prefix/lib" >&2; exit 1; }
done

# OPENBLAS_NUM_THREADS=1: OpenBLAS is not instrumented, and its own worker threads hand results
# back through spin flags TSan cannot see, so multi-threaded BLAS is reported as racing with its
# caller. trikv runs BLAS single-threaded inside TBB tasks (ThreadControl, framework/threads.hpp)
# but the test cases that construct no ThreadControl would leave OpenBLAS at its default.
# halt_on_error=1: the first report ends the test process with exit 66, so ctest fails.
# --no-tests=error: a test binary that cannot even list its tests (it once crashed at load
# under TSan) registers none, and ctest would otherwise pass on zero tests.
# The consumer test is left out: it builds against the installed trikv and Debian's libtbb;
# so is the local-Slurm test (its daemons are not ours to instrument; the shard code it drives
# runs in-process in tests/test_shard_merge.cpp); and the peak-RSS test, since TSan's shadow
# memory is part of the resident set (scripts/sanitize.sh says more).
OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --no-tests=error --output-on-failure -j"$jobs" -E "consumer|slurm:|admitted under the memory limit"
