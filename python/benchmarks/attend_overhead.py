"""Overhead of one Cache.attend from Python against the same call in C++ (docs/python.md).

    python3 python/benchmarks/attend_overhead.py build   # needs build/bin/trikv_attend_overhead

Prints, per n, the median time of one call from each side and their difference."""
import subprocess
import sys
import time

import numpy as np

import trikv

SPEC, HEADS, D = "factor", 2, 64


def python_median_us(n, calls):
    cache = trikv.Cache(SPEC, HEADS, D)
    block = np.random.default_rng(1).standard_normal((n, HEADS, D)).astype(np.float32)
    cache.append(block, block, block, block)
    q = np.ascontiguousarray(block[0])
    times = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        cache.attend(q)
        times.append((time.perf_counter_ns() - start) / 1000)
    return float(np.median(times))


def main(build):
    # The machine is shared: rounds alternate the two sides, and each side's figure is the
    # median of its per-round medians.
    print(f"{'n':>6} {'calls':>6} {'rounds':>6} {'C++ us':>10} {'Python us':>10} {'overhead us':>12}")
    for n, calls, rounds in ((1, 5001, 5), (64, 5001, 5), (1024, 21, 3), (4096, 5, 3)):
        cpp, py = [], []
        for _ in range(rounds):
            cpp.append(float(subprocess.check_output([f"{build}/bin/trikv_attend_overhead", SPEC, str(n),
                                                      str(HEADS), str(D), str(calls)])))
            py.append(python_median_us(n, calls))
        cpp, py = float(np.median(cpp)), float(np.median(py))
        print(f"{n:>6} {calls:>6} {rounds:>6} {cpp:>10.2f} {py:>10.2f} {py - cpp:>12.2f}")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build")
