"""Perplexity of the shipped model against cache memory and decode time, over approximate
caches' budgets, with the exact caches as reference points (docs/model.md):

    python3 -m trikv.model.sweep --out results/model-sweep [--chunks 8]
    python3 -m trikv.model.sweep --out results/model-sweep --redraw   # the figure from OUT/sweep.csv

writes OUT/sweep.csv (a failed cache: status failed and its error, not drawn) and
OUT/sweep.{png,pdf} (gnuplot: studies/figures/gnuplot/model-sweep.gp). The model attends a window
(w1, w2): `window` with its windows is the exact cache; every other trikv cache attends the
whole stored square, so `factor` is the exact reference of the full-square family, whose
approximations (reduced storage, SubGen, polynomial) are judged against it.
"""
import argparse
import csv
import os
import sys

import torch

from .evaluate import cache_loss, check_spec, exact_loss, held_out_windows
from .figures import draw_sweep
from .shipped import SHIPPED, load

FULL_SQUARE = ["factor", "product", "factor:dtype=bf16", "factor:dtype=fp16", "factor:dtype=int8",
               "product:dtype=int8", "subgen2:samples=2", "subgen2:samples=8", "subgen2:samples=32",
               "subgen4:samples=8", "poly:degree=1", "poly:degree=2"]
EXACT = {"factor", "product"}  # exact caches of the full square (the registry's exact flag)


def window_specs(w1, w2):
    """The model's own window, then smaller budgets on either side."""
    sizes = [(w1, w2), (w1, w2 // 2), (w1 // 2, w2), (w1 // 2, w2 // 2), (w1 // 4, w2 // 4), (1, w2)]
    return [f"window:w1={a},w2={b}" for a, b in dict.fromkeys(sizes) if a >= 1 and b >= 1]


def family(spec):
    name = spec.split(":")[0]
    return "window" if name == "window" else "exact (full square)" if spec in EXACT else \
        "reduced storage" if "dtype=" in spec else name.rstrip("24")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory for sweep.csv and the figure")
    parser.add_argument("--chunks", type=int, default=8, help="held-out context windows per cache")
    parser.add_argument("--model", default=SHIPPED, help="checkpoint directory")
    parser.add_argument("--redraw", action="store_true", help="only draw the figure again from OUT/sweep.csv")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, _ = load(args.model)
    stem = os.path.join(args.out, "sweep")
    if args.redraw:
        try:
            with open(stem + ".csv", newline="") as f:
                rows = list(csv.DictReader(f))
        except OSError as error:
            print(f"--redraw: {error}", file=sys.stderr)
            return 2
        draw_sweep(stem, rows, model.config)
        print(f"wrote {stem}.png, {stem}.pdf")
        return 0
    try:
        chunks = held_out_windows(model, args.chunks)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    specs = window_specs(model.config.w1, model.config.w2) + FULL_SQUARE
    for spec in specs:
        check_spec(spec, model)  # the sweep's own list: a refusal here is a bug, not bad input
    exact = exact_loss(model, chunks)
    rows = []
    for spec in specs:
        row = {"cache": spec, "family": family(spec).replace(" ", "_"), "exact_for_model": int(spec == specs[0]),
               "loss": "", "perplexity": "", "step_ms": "", "cache_bytes": "",
               "tokens": len(chunks) * model.config.context, "status": "ok", "reason": ""}
        try:
            r = cache_loss(model, chunks, spec)
            row.update(loss=f"{r['loss']:.6f}", perplexity=f"{r['perplexity']:.5f}", step_ms=f"{r['step_ms']:.4f}",
                       cache_bytes=r["cache_bytes"])
        except ValueError as error:  # a cache that refuses these activations is a finding, not a crash
            row.update(status="failed", reason=str(error))
        rows.append(row)
        print(",".join(str(v) for v in row.values()), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(stem + ".csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    draw_sweep(stem, rows, model.config)
    print(f"exact loss {exact:.5f}; wrote {args.out}/sweep.csv, sweep.png, sweep.pdf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
