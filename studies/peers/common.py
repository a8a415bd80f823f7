"""Shared by the peer benchmark (compare.py) and the scale study (scale.py): running
`trikv bench`, summarising repetitions, fitting log-log slopes, writing tables, recording
peers' rows in results.csv's columns and drawing them with `trikv figures`."""

import csv
import hashlib
import os
import subprocess
import sys

import numpy as np


def quantiles(ms):
    """Median and p25, p75 of a list of times (linear interpolation, as `trikv bench`)."""
    p25, med, p75 = np.percentile(np.asarray(ms, dtype=float), [25, 50, 75])
    return med, p25, p75


def run_trikv_bench(trikv, args, csv_path):
    """Runs `trikv bench ARGS --csv CSV_PATH` (its table goes to our stdout) and returns its
    rows, one per point with results.csv's columns. Fails loudly when trikv does."""
    command = [trikv, "bench", *map(str, args), "--csv", csv_path]
    print("$", " ".join(command), flush=True)
    completed = subprocess.run(command)
    if completed.returncode != 0:
        sys.exit(f"peers: trikv bench exited with {completed.returncode}: {' '.join(command)}")
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def fit_slope(x, y):
    """Slope and intercept of log(y) = slope·log(x) + intercept (least squares)."""
    slope, intercept = np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)
    return slope, intercept


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def default_trikv():
    return os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "trikv")


def peer_row(system, method, trikv_row, ms, resident_bytes, threads):
    """A peer's measurement as a row of results.csv's columns, beside the trikv row of the same
    point (`trikv bench` on the same inputs): its configuration, the peer's name in `system` and
    its method in `cache`, its step times and the bytes its tensors hold between steps
    (self-reported: the tensors' sizes, not counted through trikv's allocator)."""
    import trikv  # the build's package (PYTHONPATH=build/python, as scripts/peers.sh sets)

    low, high, level = trikv._core._median_interval(ms)
    med, p25, p75 = quantiles(ms)
    same = ("workload", "n", "d", "heads", "kv_heads", "data", "seed", "attention_scale", "warmup", "repetitions",
            "host")
    row = {column: trikv_row[column] for column in same}
    row.update(system=system, cache=method, cache_type=method, exact=True, threads=threads or 0,
               bytes=float(resident_bytes), bytes_source="self-reported", step_ms_median=med, step_ms_p25=p25,
               step_ms_p75=p75, step_ms_min=min(ms), step_ms_median_ci_low=low, step_ms_median_ci_high=high,
               step_ms_median_ci_level=level)
    row["key"] = row_key(row, (*same[:-1], "system", "cache", "threads"))
    return row


def row_key(row, columns):
    """16 hex digits hashing the row's configuration columns: results.csv's key for a row that
    no study point describes (a peer's, a micro-benchmark's)."""
    config = ";".join(f"{c}={row[c]}" for c in columns)
    return hashlib.sha256(config.encode()).hexdigest()[:16]


def draw_figures(trikv_binary, results_csv, out, figures=("pareto", "scaling")):
    """The study's figures of a results table (`trikv figures`): one figure system, one style."""
    command = [trikv_binary, "figures", results_csv, "--out", out, *[a for f in figures for a in ("--figure", f)]]
    print("$", " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        sys.exit(f"peers: {' '.join(command)} failed")
