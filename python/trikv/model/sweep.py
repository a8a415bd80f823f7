"""A zoo model's metric against cache memory at equal budgets (docs/model.md): at each byte
budget every approximate family is configured to its most accurate setting that fits
(budget.py), and the exact `factor` cache is the reference point:

    python3 -m trikv.model.sweep --model match3-simplicial --out DIR [--budgets 5%,10%,25%,50%,100%]
    python3 -m trikv.model.sweep --model match3-simplicial --out DIR --redraw   # the figure from DIR/sweep.csv

writes DIR/sweep.csv (evaluate.py's columns, which share results.csv's names, plus family and
budgets: the budgets that chose the setting; a cache that refuses the activations has status
failed and its error) and DIR/sweep.{png,pdf}: the metric with its 95% interval against the
caches' resident bytes, one series per family.
"""
import argparse
import csv
import os
import sys

import torch

from . import budget
from .checkpoint import CheckpointError, load, writable_directory
from .evaluate import COLUMNS, calibration, evaluate, layer_specs, table_rows, to_csv
from .figures import draw_memory
from .zoo import lookup

BUDGETS = "5%,10%,25%,50%,100%"
SWEEP_COLUMNS = COLUMNS + ["family", "budgets"]


def family_of(spec, config):
    """The series a spec is drawn in: its type, marked exact or reduced storage (for "A|B", one
    spec per kv head, its first head's)."""
    first = spec.split("|")[0]
    name = first.partition(":")[0]
    if "|" not in spec and budget.is_exact(spec, config.heads, config.d, config.groups):
        return f"{name} (exact)"
    return f"{name} (reduced storage)" if budget.is_reduced_storage(first) else name


def plan(model, budgets, inputs):
    """{spec: (family, [budgets that chose it])}, the exact reference cache first; inputs: the
    held-out sequences (the first calibrates data-dependent sizes)."""
    config = model.config
    specs = {budget.REFERENCE: (family_of(budget.REFERENCE, config), [])}
    streams = calibration(model, inputs)
    for text in budgets:
        _, chosen = budget.fit_text(text, config.heads, config.d, config.context, config.windows, config.groups,
                                    streams)
        for spec, _ in chosen.values():
            specs.setdefault(spec, (family_of(spec, config), []))[1].append(text)
    return specs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="kjv-window", help="a zoo model (python3 -m trikv.model.zoo)")
    parser.add_argument("--checkpoint", help="a checkpoint directory other than the zoo's")
    parser.add_argument("--out", required=True, help="directory for sweep.csv and the figure")
    parser.add_argument("--budgets", default=BUDGETS, help=f"comma-separated budgets (default {BUDGETS})".replace("%", "%%"))
    parser.add_argument("--sequences", type=int, help="held-out sequences (default: the model's recorded count)")
    parser.add_argument("--redraw", action="store_true", help="only draw the figure again from OUT/sweep.csv")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    stem = os.path.join(args.out, "sweep")
    try:
        entry = lookup(args.model)
        title = f"{entry.name}: held-out {entry.task.metric} under each cache at equal memory"
        if args.redraw:
            try:
                with open(stem + ".csv", newline="") as f:
                    rows = list(csv.DictReader(f))
            except OSError as error:
                raise ValueError(f"--redraw: {error}") from None
            if not rows or set(SWEEP_COLUMNS) - set(rows[0]):
                raise ValueError(f"--redraw: {stem}.csv is not a sweep.csv (columns {', '.join(SWEEP_COLUMNS)})")
            draw_memory(stem, rows, title, entry.task.metric)
            print(f"wrote {stem}.png, {stem}.pdf")
            return 0
        model, record = load(args.checkpoint or entry.directory)
        sequences = record["schedule"]["held_out_chunks"] if args.sequences is None else args.sequences
        inputs, targets = entry.task.held_out(model.config, sequences)
        specs = plan(model, [b.strip() for b in args.budgets.split(",")], inputs)
        caches = [(spec, layer_specs(spec, model)) for spec in specs]
        writable_directory(args.out, "--out")
    except (ValueError, CheckpointError) as error:
        print(error, file=sys.stderr)
        return 2
    result = evaluate(model, entry.task, inputs, targets, caches)
    rows = table_rows(entry.name, entry.task, model, result, len(inputs))
    rows[0].update(family="exact")
    for row in rows[1:]:
        family, budgets = specs[row["cache"]]
        row.update(family=family, budgets=";".join(budgets))
    with open(stem + ".csv", "w") as f:
        f.write(to_csv(rows, SWEEP_COLUMNS))
    with open(stem + ".csv", newline="") as f:  # the figure reads what was written, as --redraw does
        draw_memory(stem, list(csv.DictReader(f)), title, entry.task.metric)
    print(to_csv(rows, SWEEP_COLUMNS), end="")
    print(f"wrote {stem}.csv, {stem}.png, {stem}.pdf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
