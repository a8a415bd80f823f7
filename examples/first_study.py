"""A first study from Python: three caches timed and sized at two lengths, then the figures.

    python3 examples/first_study.py [--out results/first-study]

Prints one line per measured point (the rows of results.csv) and the figures the study drew
(PNG beside a gnuplot script that redraws them). docs/python.md, "Studies"."""
import argparse
import glob
import os

import trikv

STUDY = {
    "name": "first-study",
    # Two exact caches (pairs stored, factors stored) and an approximate one (two windows).
    "caches": ["product", "factor", "window:w1=8,w2=8"],
    "n": [32, 64],
    "d": [16],
    "heads": [2],
    "warmup": 1,
    "repetitions": 3,
    "measure_peaks": False,   # skip the machine's peak measurement: a quick run
    "figures": ["pareto", "scaling"],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/first-study", help="the study's output directory")
    out = parser.parse_args().out
    rows = trikv.run_study(STUDY, out=out)
    print(f"{'cache':34} {'n':>4} {'ms/step':>9} {'bytes':>9} {'logical':>9} {'rel. error':>10}")
    for r in rows:
        print(f"{r['cache']:34} {r['n']:>4} {r['step_ms_median']:>9.4f} {r['bytes']:>9.0f} {r['logical_bytes']:>9.0f} "
              f"{r['rel_l2_error']:>10.2e}")
    figures = sorted(glob.glob(os.path.join(out, "**", "*.png"), recursive=True))
    print("figures:", *figures, sep="\n  ")
    if not figures:
        raise SystemExit("first_study: the study drew no figure (is gnuplot installed?)")


if __name__ == "__main__":
    main()
