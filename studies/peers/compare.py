#!/usr/bin/python3
"""Peer benchmark: one decode attend of tensor attention over n tokens, on the same inputs and
cores, one after the other: trikv (factor fused, product, factor recompute, through `trikv
bench`), PyTorch written three ways, NumPy reassociated. Every output is checked against a
float64 reference before anything is timed. Writes results.csv (results.csv's columns: trikv's
rows from `trikv bench`, each peer's at its better thread count with its system in the
`system` column), peers.md (every thread count) and figures/ (`trikv figures`: trikv and the
peers in one Pareto and one scaling figure) into --out (default results/peers/). Run through
scripts/peers.sh."""

import argparse
import os
import sys
import time

import numpy as np
import torch

import common
import trikv

TOLERANCE = 1e-5  # relative L2 error against float64, as the cache conformance tests

TRIKV = {  # label: (--cache spec, the spec trikv prints back)
    "trikv factor fused": ("factor", "factor:strategy=fused,dtype=f32"),
    "trikv product": ("product", "product:dtype=f32"),
    "trikv factor recompute": ("factor:strategy=recompute", "factor:strategy=recompute,dtype=f32"),
}
PAIR_METHODS = {"trikv product", "trikv factor recompute", "torch precomputed", "torch recomputed"}
# The comparisons the targets name: (peer, trikv).
RATIOS = [
    ("torch reassociated", "trikv factor fused"),
    ("numpy reassociated", "trikv factor fused"),
    ("torch precomputed", "trikv product"),
    ("torch recomputed", "trikv factor recompute"),
]


def make_inputs(directory, rows, d, seed):
    """Gaussian q, k1, k2, v1, v2 [rows, d], float32, written as .npy for trikv (`bench --inputs`:
    the decode step at position t appends token t and attends q[t])."""
    rng = np.random.default_rng(seed)
    os.makedirs(directory, exist_ok=True)
    arrays = {name: rng.standard_normal((rows, d)).astype(np.float32) for name in ("q", "k1", "k2", "v1", "v2")}
    for name, array in arrays.items():
        np.save(os.path.join(directory, name + ".npy"), array)
    return arrays


def reference(x, n, scale):
    """Float64 tensor attention of the step at position n — q[n] over all pairs (i, j ≤ n) — by
    reassociation (docs/math.md §3): trikv's first timed step at n."""
    k1, k2, v1, v2 = (x[s][:n + 1].astype(np.float64) for s in ("k1", "k2", "v1", "v2"))
    q = x["q"][n].astype(np.float64)
    s = scale * ((k1 * q) @ k2.T)
    p = np.exp(s - s.max())
    return ((p @ v2) * v1).sum(0) / p.sum()


def relative_error(out, expected):
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    return np.linalg.norm(out - expected) / np.linalg.norm(expected) if np.all(np.isfinite(out)) else np.inf


def check(label, n, d, row):
    """A wrong trikv output ends the run: nothing is timed on a wrong answer. trikv checks each of
    its outputs against float64 itself (the row's rel_l2_error, the worst of its steps)."""
    error = float(row["rel_l2_error"]) if row["status"] == "ok" else np.inf
    if not error <= TOLERANCE:
        sys.exit(f"peers: {label} at n={n}, d={d}: relative L2 error {error:.3g} against float64 "
                 f"exceeds {TOLERANCE:g}; nothing is timed on a wrong answer")


# Peer steps: each builder takes the float32 inputs for n tokens and returns a no-argument
# step computing the output vector; work done in the builder is not timed.
def torch_reassociated(k1, k2, v1, v2, q, scale):
    def step():
        s = ((k1 * q) @ k2.T).mul_(scale)
        p = torch.softmax(s.view(-1), 0).view_as(s)
        return ((p @ v2) * v1).sum(0)
    return step


def pair_rows(a, b):
    return (a[:, None, :] * b[None, :, :]).reshape(-1, a.shape[1])


def torch_precomputed(k1, k2, v1, v2, q, scale):
    kp, vp = pair_rows(k1, k2), pair_rows(v1, v2)

    def step():
        return torch.softmax((kp @ q).mul_(scale), 0) @ vp
    return step


def torch_recomputed(k1, k2, v1, v2, q, scale):
    def step():
        kp, vp = pair_rows(k1, k2), pair_rows(v1, v2)
        return torch.softmax((kp @ q).mul_(scale), 0) @ vp
    return step


def numpy_reassociated(k1, k2, v1, v2, q, scale):
    def step():
        s = ((k1 * q) @ k2.T) * np.float32(scale)
        e = np.exp(s - s.max())
        return ((e @ v2) * v1).sum(0) / e.sum()
    return step


PEERS = {  # label: (builder, library, thread counts tried)
    "torch reassociated": (torch_reassociated, "torch", (1, 2)),
    "torch precomputed": (torch_precomputed, "torch", (1, 2)),
    "torch recomputed": (torch_recomputed, "torch", (1, 2)),
    "numpy reassociated": (numpy_reassociated, "numpy", (None,)),  # OpenBLAS's own threads
}
SYSTEMS = {"torch": "pytorch", "numpy": "numpy"}  # a peer row's system column


def held_bytes(label, n, d):
    """Bytes a peer's step keeps between steps for n + 1 tokens of dimension d (float32): the
    pair tensors K1∘K2 and V1∘V2 when precomputed, else the four token streams; the pairs a
    recomputing step builds are transient."""
    rows = n + 1
    return 2 * rows * rows * d * 4 if label == "torch precomputed" else 4 * rows * d * 4


def peer_inputs(x, n, library):
    """The step at position n: tokens 0 … n and the query q[n], as trikv's first timed step."""
    arrays = [x[s][:n + 1] for s in ("k1", "k2", "v1", "v2")] + [x["q"][n]]
    if library == "torch":
        return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
    return [np.ascontiguousarray(a) for a in arrays]


def time_steps(step, warmup, repetitions):
    for _ in range(warmup):
        step()
    ms = []
    for _ in range(repetitions):
        start = time.perf_counter()
        out = step()
        ms.append((time.perf_counter() - start) * 1e3)
    return ms, out


def trikv_args(args, inputs_dir, n, d, labels, warmup, repetitions):
    caches = [a for label in labels for a in ("--cache", TRIKV[label][0])]
    return [*caches, "--n", n, "--d", d, "--scale", repr(1.0 / d), "--inputs", inputs_dir, "--threads", 0,
            "--warmup", warmup, "--repetitions", repetitions]


def fits(label, n, d, max_pair_bytes):
    return label not in PAIR_METHODS or 2 * n * n * d * 4 <= max_pair_bytes


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trikv", default=common.default_trikv())
    parser.add_argument("--out", default="results/peers")
    parser.add_argument("--n", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    parser.add_argument("--d", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--max-pair-bytes", type=float, default=9e9,
                        help="skip the methods holding both pair tensors (2·n²·d·4 bytes) above this")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_grad_enabled(False)

    wrong = {}  # (peer, n, d) → its relative error, when above TOLERANCE
    rows = []  # method, n, d, threads, ms median, p25, p75, % of SGEMM, % of read bandwidth
    results = []  # results.csv's rows: trikv's from `trikv bench`, each peer's at its better thread count
    results_csv = os.path.join(args.out, "results.csv")
    for d in args.d:
        inputs_dir = os.path.join(args.out, "inputs", f"d{d}")
        x = make_inputs(inputs_dir, max(args.n) + args.warmup + args.repetitions, d, args.seed + d)
        scale = 1.0 / d
        for n in args.n:
            expected = reference(x, n, scale)
            trikv_labels = [label for label in TRIKV if fits(label, n, d, args.max_pair_bytes)]
            peer_labels = [label for label in PEERS if fits(label, n, d, args.max_pair_bytes)]
            skipped = [label for label in [*TRIKV, *PEERS] if not fits(label, n, d, args.max_pair_bytes)]
            if skipped:
                print(f"n={n} d={d}: skipping {', '.join(skipped)} (pair tensors need "
                      f"{2 * n * n * d * 4 / 1e9:.1f} GB > --max-pair-bytes {args.max_pair_bytes / 1e9:.1f} GB)")

            # 1. Every output checked before anything is timed.
            check_rows = common.run_trikv_bench(
                args.trikv, trikv_args(args, inputs_dir, n, d, trikv_labels, 0, 1),
                os.path.join(args.out, "check.csv"))
            for row in check_rows:
                label = next(k for k, v in TRIKV.items() if v[1] == row["cache"])
                check(label, n, d, row)
            for label in list(peer_labels):  # a wrong peer is reported in the table, not timed
                builder, library, _ = PEERS[label]
                error = relative_error(builder(*peer_inputs(x, n, library), scale)(), expected)
                if not error <= TOLERANCE:
                    print(f"peers: WRONG: {label} at n={n}, d={d}: relative L2 error {error:.3g} against float64 "
                          f"exceeds {TOLERANCE:g}; not timed", file=sys.stderr, flush=True)
                    wrong[(label, n, d)] = error
                    peer_labels.remove(label)
            print(f"n={n} d={d}: {len(check_rows) + len(peer_labels)} outputs within {TOLERANCE:g} of float64")

            # 2. Timing, trikv first, then the peers, on the same inputs and cores.
            timed = common.run_trikv_bench(
                args.trikv, trikv_args(args, inputs_dir, n, d, trikv_labels, args.warmup, args.repetitions),
                os.path.join(args.out, "timed.csv"))
            for row in timed:
                label = next(k for k, v in TRIKV.items() if v[1] == row["cache"])
                check(label, n, d, row)
                rows.append([label, n, d, row["threads"], *(float(row[c]) for c in (
                    "step_ms_median", "step_ms_p25", "step_ms_p75")),
                    100 * float(row["gflops_fraction"]), 100 * float(row["gbps_fraction"])])
            results += timed
            for label in peer_labels:
                builder, library, thread_counts = PEERS[label]
                best = None  # (median, times, threads)
                for threads in thread_counts:
                    if threads is not None:
                        torch.set_num_threads(threads)
                    step = builder(*peer_inputs(x, n, library), scale)
                    ms, out = time_steps(step, args.warmup, args.repetitions)
                    if not relative_error(out, expected) <= TOLERANCE:
                        sys.exit(f"peers: {label} at n={n}, d={d} passed the check but its timed output is wrong")
                    del step
                    med, p25, p75 = common.quantiles(ms)
                    print(f"{label:24s} n={n:5d} d={d:4d} threads={threads}: {med:10.3f} ms "
                          f"[{p25:.3f}-{p75:.3f}]", flush=True)
                    rows.append([label, n, d, threads if threads else "openblas", med, p25, p75, "", ""])
                    if best is None or med < best[0]:
                        best = (med, ms, threads)
                system, method = SYSTEMS[library], label.split(" ", 1)[1]
                results.append(common.peer_row(system, method, timed[0], best[1], held_bytes(label, n, d), best[2]))
            # Rewritten whole (atomically) after every point: an interrupted run keeps what it measured.
            trikv.write_results(results_csv, results)

    summary = summarise(rows)
    with open(os.path.join(args.out, "peers.md"), "w") as f:
        f.write(tables(summary, wrong, args.n, args.d))
    common.draw_figures(args.trikv, results_csv, os.path.join(args.out, "figures"))
    print(open(os.path.join(args.out, "peers.md")).read())


def summarise(rows):
    """(method, n, d) → best thread count's median, p25, p75, threads, and trikv's fractions."""
    summary = {}
    for method, n, d, threads, med, p25, p75, sgemm, read in rows:
        best = summary.get((method, n, d))
        if best is None or med < best["median"]:
            summary[(method, n, d)] = {"median": med, "p25": p25, "p75": p75, "threads": threads,
                                       "fractions": (sgemm, read)}
    return summary


def fractions(entry):
    """% of the SGEMM peak and of read bandwidth, for trikv rows (the peaks `trikv bench`
    measured around the point)."""
    return entry["fractions"]


def ceiling(peer, own, column):
    """The ratio peer / trikv would be if trikv ran at 100% of its peak (column 0: SGEMM, 1: read):
    what the machine allows, against which a target ratio can be judged."""
    if peer is None or own is None:
        return "–"
    at_peak_ms = own["median"] * fractions(own)[column] / 100
    return f"{peer['median'] / at_peak_ms:.2f}"


def tables(summary, wrong, ns, ds):
    methods = [*TRIKV, *PEERS]

    def cell(method, n, d):
        if (method, n, d) in wrong:
            return f"wrong (error {wrong[(method, n, d)]:.1e}), not timed"
        e = summary.get((method, n, d))
        return "–" if e is None else f"{e['median']:.2f} [{e['p25']:.2f}–{e['p75']:.2f}]"
    time_rows, ratio_rows = [], []
    for d in ds:
        for n in ns:
            time_rows.append([n, d, *[cell(m, n, d) for m in methods]])
            ratio_cells = []
            for peer, own in RATIOS:
                a, b = summary.get((peer, n, d)), summary.get((own, n, d))
                ratio_cells.append("–" if a is None or b is None else
                                   f"{a['median'] / b['median']:.2f} [{a['p25'] / b['p75']:.2f}–{a['p75'] / b['p25']:.2f}]")
            fused, product = summary.get(("trikv factor fused", n, d)), summary.get(("trikv product", n, d))
            threads = "/".join(str(summary[(p, n, d)]["threads"]) for p in PEERS
                               if (p, n, d) in summary and PEERS[p][1] == "torch")
            ratio_rows.append([n, d, *ratio_cells,
                               "–" if fused is None else f"{fractions(fused)[0]:.0f}%",
                               "–" if product is None else f"{fractions(product)[1]:.0f}%",
                               ceiling(summary.get(("torch reassociated", n, d)), fused, 0),
                               ceiling(summary.get(("torch precomputed", n, d)), product, 1), threads])
    text = ("Time per decode attend, ms: median [p25–p75] (torch: its better thread count); "
            f"– : skipped, the pair tensors exceed --max-pair-bytes; wrong: relative L2 error above {TOLERANCE:g}\n\n")
    text += common.markdown_table(["n", "d", *methods], time_rows)
    text += ("\nRatios peer / trikv (> 1: trikv faster): ratio of medians [p25/p75 – p75/p25]; "
             "trikv's fractions of the peaks `trikv bench` measured just before and after its point (the larger); "
             "ceilings: the ratio if trikv ran at 100% of that peak (fused: SGEMM, product: read bandwidth); "
             "torch threads: torch.set_num_threads — its matmuls run in Debian's OpenBLAS, on both cores either way\n\n")
    text += common.markdown_table(["n", "d", *[f"{p} / {o}" for p, o in RATIOS], "fused %SGEMM", "product %read",
                                   "ceiling torch reassoc / fused", "ceiling torch precomp / product",
                                   "torch threads (reassoc/precomp/recomp)"], ratio_rows)
    return text


if __name__ == "__main__":
    main()
