"""A zoo model's metric (loss for a language model, accuracy for Match3) through its generation
path with the 2-simplicial layers' caches built from trikv cache specs, token by token, with
95% bootstrap intervals over the held-out sequences, decode time and resident bytes
(docs/model.md):

    python3 -m trikv.model.evaluate --model kjv-window --cache window:w1=8,w2=32 --cache "factor;poly" [--json]
    python3 -m trikv.model.evaluate --model match3-simplicial --budget 25% [--sequences 256] [--out DIR]

A spec applies to every 2-simplicial layer; "SPEC1;SPEC2" gives one per 2-simplicial layer, in
order, and within a layer "SPEC0|SPEC1" one per kv head (serving its group of query heads). --budget (P% of the exact factor cache's bytes at the model's context, or bytes) adds,
for each approximate family, its most accurate setting that fits (budget.py); "B0|B1" gives one
budget per kv head (each of one kv head's cache), fitted per head into "SPEC0|SPEC1". Each sequence
starts from empty caches, as in training; "exact" is the training path on the same sequences.
step_ms is the median wall time of one decode step of the whole model, per sequence (sequences
decode DECODE_BATCH at a time, one trikv.Cache each; a step's time is divided among them);
bytes are the 2-simplicial caches' resident bytes after a sequence, all layers, the largest
over sequences. The CSV (stdout, or DIR/evaluation.csv) quotes fields that hold commas; its columns share
results.csv's names where they mean the same (cache, cache_type, exact, n, d, heads, kv_heads,
bytes, step_ms_median, status, reason).
"""
import argparse
import csv
import io
import json
import os
import statistics
import sys
import time

import torch

from . import budget
from .checkpoint import CheckpointError, load, writable_directory
from .network import SIMPLICIAL
from .tasks import evaluate as training_path_metric
from .traces import capture
from .zoo import lookup

RESAMPLES = 2000      # bootstrap resamples of the held-out sequences
CONFIDENCE = 0.95
DECODE_BATCH = 16     # sequences decoded together (one trikv.Cache each)
COLUMNS = ["model", "task", "metric", "cache", "cache_type", "exact", "value", "ci_low", "ci_high",
           "difference", "difference_ci_low", "difference_ci_high", "n", "sequences", "d", "heads", "kv_heads",
           "bytes", "step_ms_median", "status", "reason"]


def bootstrap(values, reference=None, seed=0):
    """(mean, [lo, hi]) of values [sequences] with a percentile bootstrap interval; with
    reference, of the paired difference values − reference (the same resampled sequences)."""
    data = values - reference if reference is not None else values
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, len(data), (RESAMPLES, len(data)), generator=generator)
    means = data[picks].mean(1)
    tail = (1 - CONFIDENCE) / 2
    lo, hi = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=means.dtype)).tolist()
    return data.mean().item(), [lo, hi]


def layer_specs(text, model):
    """The spec of each 2-simplicial layer from "SPEC" or "SPEC1;SPEC2"; ValueError (one line)
    when the count is wrong or the registry refuses one for this model's shape."""
    layers = sum(b.kind == SIMPLICIAL for b in model.blocks)
    if layers == 0:
        raise ValueError("--cache: the model has no 2-simplicial layer to give a cache")
    specs = [s.strip() for s in text.split(";")]
    if len(specs) == 1:
        specs *= layers
    if len(specs) != layers:
        raise ValueError(f"--cache: {text!r} gives {len(specs)} specs for {layers} 2-simplicial layers")
    config = model.config
    for spec in specs:
        per_head = spec.split("|")
        if len(per_head) == 1:
            budget.Cache(spec, config.heads, config.d, kv_heads=config.groups)  # the registry's one-line refusal
        elif len(per_head) == config.groups:
            for head_spec in per_head:
                budget.Cache(head_spec, config.heads // config.groups, config.d, kv_heads=1)
        else:
            raise ValueError(f"--cache: {spec!r} gives {len(per_head)} specs for {config.groups} kv heads")
    return specs


def decode(model, inputs, specs):
    """(logits [sequences, n, classes], median ms of one decode step of the whole model per
    sequence, largest resident bytes of the 2-simplicial layers' caches after a sequence)."""
    outputs, steps, largest = [], [], 0
    with torch.no_grad():
        for first in range(0, len(inputs), DECODE_BATCH):
            batch = inputs[first:first + DECODE_BATCH]
            caches = model.new_caches(specs, batch=len(batch))
            logits = []
            for t in range(batch.shape[1]):
                start = time.perf_counter()
                logits.append(model(batch[:, t:t + 1], caches, start=t)[:, 0])
                steps.append((time.perf_counter() - start) / len(batch))
            outputs.append(torch.stack(logits, 1))
            layer_bytes = [c.bytes for c, b in zip(caches, model.blocks) if b.kind == SIMPLICIAL]
            largest = max(largest, sum(layer_bytes) // len(batch))
    return torch.cat(outputs), 1e3 * statistics.median(steps), largest


def evaluate(model, task, inputs, targets, caches):
    """The exact result and one per cache entry (display spec, [layer specs])."""
    config = model.config
    exact_values, _ = training_path_metric(model, task, inputs, targets)
    value, ci = bootstrap(exact_values)
    result = {"metric": task.metric, "exact": {"value": value, "ci": ci}, "caches": []}
    for shown, specs in caches:
        row = {"spec": shown, "layers": specs,
               "exact": all(budget.is_exact(s, config.heads // config.groups, config.d, 1)
                            for layer in specs for s in layer.split("|"))}
        try:
            logits, step_ms, cache_bytes = decode(model, inputs, specs)
        except ValueError as error:  # a cache that refuses these activations is a finding, not a crash
            row.update(status="failed", reason=str(error))
        else:
            values = task.per_sequence(logits, targets).double()
            value, ci = bootstrap(values)
            difference, difference_ci = bootstrap(values, exact_values)
            row.update(value=value, ci=ci, difference=difference, difference_ci=difference_ci,
                       cache_bytes=cache_bytes, step_ms=step_ms, status="ok")
        result["caches"].append(row)
    return result


def table_rows(name, task, model, result, sequences):
    """One dict per result (the training path first), keyed by COLUMNS."""
    config = model.config
    shared = {"model": name, "task": task.name, "metric": task.metric, "n": config.context, "sequences": sequences,
              "d": config.d, "heads": config.heads, "kv_heads": config.groups}
    rows = [dict(shared, cache="exact (training path)", cache_type="", exact=1, value=result["exact"]["value"],
                 ci_low=result["exact"]["ci"][0], ci_high=result["exact"]["ci"][1], status="ok")]
    for r in result["caches"]:
        types = sorted({s.partition(":")[0] for layer in r["layers"] for s in layer.split("|")})
        row = dict(shared, cache=r["spec"], cache_type=";".join(types), exact=int(r["exact"]), status=r["status"],
                   reason=r.get("reason", ""))
        if r["status"] == "ok":
            row.update(value=r["value"], ci_low=r["ci"][0], ci_high=r["ci"][1], difference=r["difference"],
                       difference_ci_low=r["difference_ci"][0], difference_ci_high=r["difference_ci"][1],
                       bytes=r["cache_bytes"], step_ms_median=r["step_ms"])
        rows.append(row)
    return rows


def to_csv(rows, columns):
    """CSV text; a field holding a comma (a cache spec) is quoted."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()} for row in rows)
    return text.getvalue()


def calibration(model, inputs):
    """Each 2-simplicial layer's (k1, k2, v1, v2) [n, kv_heads, d] float32 for the first held-out
    sequence, by the training path: what budget.fit fills a data-dependent cache with."""
    streams = capture(model, inputs[:1])
    return [tuple(streams[layer][name] for name in ("k1", "k2", "v1", "v2"))
            for layer, block in enumerate(model.blocks) if block.kind == SIMPLICIAL]


def budget_caches(text, model, inputs):
    """(bytes of one layer's budget, or a list of one kv head's each for "B0|B1|…", [the spec each
    approximate family fits into it])."""
    config = model.config
    streams = calibration(model, inputs)
    if not streams:
        raise ValueError("--budget: the model has no 2-simplicial layer to give a cache")
    size, chosen = budget.fit_text(text, config.heads, config.d, config.context, config.windows, config.groups,
                                   streams)
    return size, [choice.spec for choice in chosen.values()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="kjv-window", help="a zoo model (python3 -m trikv.model.zoo)")
    parser.add_argument("--checkpoint", help="a checkpoint directory other than the zoo's")
    parser.add_argument("--cache", action="append", default=[], help="a cache spec, or SPEC1;SPEC2 per layer (repeatable)")
    parser.add_argument("--budget", help="P%% of the exact factor cache's bytes at the context, or bytes")
    parser.add_argument("--sequences", type=int, help="held-out sequences (default: the model's recorded count)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of CSV")
    parser.add_argument("--out", help="also write DIR/evaluation.csv and DIR/evaluation.json")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    try:
        entry = lookup(args.model)
        model, record = load(args.checkpoint or entry.directory)
        caches = [(text, layer_specs(text, model)) for text in args.cache]
        sequences = record["schedule"]["held_out_chunks"] if args.sequences is None else args.sequences
        inputs, targets = entry.task.held_out(model.config, sequences)
        if args.budget:
            size, specs = budget_caches(args.budget, model, inputs)
            caches += [(spec, layer_specs(spec, model)) for spec in specs]
            per = "kv head" if isinstance(size, list) else "2-simplicial layer"
            print(f"--budget {args.budget}: {size} bytes per {per}: {', '.join(specs) or 'no cache fits'}",
                  file=sys.stderr)
        if args.out:
            writable_directory(args.out, "--out")
    except (ValueError, CheckpointError) as error:
        print(error, file=sys.stderr)
        return 2
    result = dict(model=entry.name, **evaluate(model, entry.task, inputs, targets, caches))
    table = to_csv(table_rows(entry.name, entry.task, model, result, len(inputs)), COLUMNS)
    document = json.dumps(result, indent=2)
    if args.out:
        for name, text in (("evaluation.csv", table), ("evaluation.json", document + "\n")):
            with open(os.path.join(args.out, name), "w") as f:
                f.write(text)
    print(document if args.json else table, end="\n" if args.json else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
