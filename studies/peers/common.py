"""Shared by the peer benchmark (compare.py) and the scale study (scale.py): running
`trikv bench`, summarising repetitions, fitting log-log slopes, writing tables."""

import csv
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


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def default_trikv():
    return os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "trikv")


def save_figure(fig, axes, path):
    """Grid and legend on every panel, then the PNG."""
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
