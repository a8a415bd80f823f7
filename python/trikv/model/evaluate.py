"""The model's held-out loss through its generation path with the 2-simplicial layers' caches
replaced by any trikv cache spec, token by token, beside decode time and the caches' resident
bytes (docs/model.md):

    python3 -m trikv.model.evaluate --cache window:w1=8,w2=32 --cache factor:dtype=int8 [--chunks 2]

Each chunk of held-out text (the model's context, + 1 byte to predict) starts from empty caches,
as in training. The "exact" loss is the training path's on the same chunks.
"""
import argparse
import math
import statistics
import sys
import time

import torch
from torch.nn import functional as F

from .. import Cache
from . import corpus
from .network import SIMPLICIAL, next_byte_loss
from .shipped import SHIPPED, load
from .train import held_out_chunks


def exact_loss(model, chunks):
    with torch.no_grad():
        return next_byte_loss(model, chunks).item()


def cache_loss(model, chunks, spec):
    """{loss, perplexity, step_ms, cache_bytes} of spec over chunks [count, length + 1].
    step_ms: median wall time of one decode step of the whole model; cache_bytes: the
    2-simplicial layers' caches' resident bytes after the last token, largest over chunks."""
    total, count, steps, largest = 0.0, 0, [], 0
    with torch.no_grad():
        for chunk in chunks:
            caches = model.new_caches(spec)
            for t in range(len(chunk) - 1):
                start = time.perf_counter()
                logits = model(chunk[None, t:t + 1], caches, start=t)
                steps.append(time.perf_counter() - start)
                total += F.cross_entropy(logits[0, -1:], chunk[t + 1:t + 2]).item()
                count += 1
            largest = max(largest, sum(c.bytes for c, b in zip(caches, model.blocks) if b.kind == SIMPLICIAL))
    loss = total / count
    return {"loss": loss, "perplexity": math.exp(loss), "step_ms": 1e3 * statistics.median(steps),
            "cache_bytes": largest}


def held_out_windows(model, count):
    """The first count held-out windows [count, context + 1]; ValueError (one line) unless they fit."""
    _, held_out = corpus.split(corpus.text())
    most = (len(held_out) - 1) // model.config.context
    if not 1 <= count <= most:
        raise ValueError(f"--chunks: {count} is out of range [1, {most}]")
    return held_out_chunks(held_out, model.config.context, count)


def check_spec(spec, model):
    """ValueError (the registry's one-line message) unless spec builds a cache for this model."""
    Cache(spec, model.config.heads, model.config.d)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", action="append", required=True, help="a trikv cache spec (repeatable)")
    parser.add_argument("--chunks", type=int, default=2, help="held-out context windows")
    parser.add_argument("--model", default=SHIPPED, help="checkpoint directory")
    args = parser.parse_args(argv)
    model, _ = load(args.model)
    for spec in args.cache:
        try:
            check_spec(spec, model)
        except ValueError as error:
            print(f"--cache: {error}", file=sys.stderr)
            return 2
    try:
        chunks = held_out_windows(model, args.chunks)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    exact = exact_loss(model, chunks)
    print(f"exact (training path): loss {exact:.5f} nats/byte, perplexity {math.exp(exact):.4f}")
    print("cache,loss,perplexity,step_ms,cache_bytes")
    for spec in args.cache:
        r = cache_loss(model, chunks, spec)
        print(f"{spec},{r['loss']:.5f},{r['perplexity']:.4f},{r['step_ms']:.3f},{r['cache_bytes']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
