#!/usr/bin/python3
"""Scale study: time per decode attend and resident bytes against n for trikv's factor (fused)
cache, up to n = 32768, and its product cache, up to the largest n whose pair tensors fit
comfortably in memory; fits log-log slopes (expected: time ∝ n² for both, bytes ∝ n for
factor and ∝ n² for product). Writes scale.csv (results.csv's columns, every bench row),
scale.md (the slopes, time fitted over n ≥ --fit-from) and scale-figures/ (`trikv figures`:
time and memory against n, slopes over all n in the key) into --out (default results/peers/).
Run through scripts/peers.sh."""

import argparse
import os

import numpy as np

import common
import trikv

CACHES = {"factor fused": ("factor", "factor:strategy=fused,dtype=f32"),
          "product": ("product", "product:dtype=f32")}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trikv", default=common.default_trikv())
    parser.add_argument("--out", default="results/peers")
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--factor-n", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192, 16384, 32768])
    parser.add_argument("--product-n", type=int, nargs="+", default=[256, 512, 1024, 2048, 3072, 4096])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--fit-from", type=int, default=1024, help="fit time slopes over n ≥ this (small n: overheads)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    points = {}  # label → list of (n, median ms, p25, p75, resident bytes)
    results = []  # every bench row, results.csv's columns
    for label, ns in (("factor fused", args.factor_n), ("product", args.product_n)):
        spec = CACHES[label][0]
        rows = common.run_trikv_bench(
            args.trikv, ["--cache", spec, *[a for n in ns for a in ("--n", n)], "--d", args.d, "--threads", 0,
                         "--warmup", args.warmup, "--repetitions", args.repetitions],
            os.path.join(args.out, f"scale-{spec}.csv"))
        results += rows
        for n in ns:
            row = next(r for r in rows if int(r["n"]) == n)
            times = (float(row[c]) for c in ("step_ms_median", "step_ms_p25", "step_ms_p75"))
            points.setdefault(label, []).append((n, *times, int(float(row["bytes"]))))

    fits = {}
    table = []
    for label, pts in points.items():
        n = np.array([p[0] for p in pts], float)
        ms = np.array([p[1] for p in pts])
        resident = np.array([p[4] for p in pts], float)
        timed = n >= args.fit_from
        fits[label] = (common.fit_slope(n[timed], ms[timed]), common.fit_slope(n, resident))
        for p in pts:
            table.append([label, p[0], args.d, f"{p[1]:.3f}", f"{p[2]:.3f}–{p[3]:.3f}", p[4]])
    results_csv = os.path.join(args.out, "scale.csv")
    trikv.write_results(results_csv, results)
    text = f"Time per decode attend and resident bytes against n, d = {args.d}\n\n"
    text += common.markdown_table(["cache", "n", "d", "ms median", "ms p25–p75", "resident bytes"], table)
    text += f"\nLog-log slopes (time fitted over n ≥ {args.fit_from}, bytes over all n)\n\n"
    text += common.markdown_table(
        ["cache", "time slope", "bytes slope", "largest n"],
        [[label, f"{fits[label][0][0]:.2f}", f"{fits[label][1][0]:.2f}", max(p[0] for p in points[label])]
         for label in points])
    with open(os.path.join(args.out, "scale.md"), "w") as f:
        f.write(text)
    print(text)
    common.draw_figures(args.trikv, results_csv, os.path.join(args.out, "scale-figures"), figures=("scaling",))


if __name__ == "__main__":
    main()
