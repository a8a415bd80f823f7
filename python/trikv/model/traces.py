"""Captures a model's activations over held-out text: every layer's and head's q, k1, k2, v1, v2
(q, k, v for a standard layer) as .npy, one [tokens, d] float32 array each, in a layout the C++
study reads without a JSON parser, plus manifest.json for people and Python (docs/model.md):

    DIR/manifest.json
    DIR/layer{L}/head{H}/{q,k1,k2,v1,v2}.npy      2-simplicial layer (k2, v2 biased, as cached)
    DIR/layer{L}/head{H}/{q,k,v}.npy              standard layer

    python3 -m trikv.model.traces --out traces/kjv [--chunks 8]

The text is the held-out part's first `chunks` consecutive windows of the model's context; each
window runs from an empty context (positions restart), and the trace is their rows in order.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from . import corpus
from .network import SIMPLICIAL
from .shipped import SHIPPED, load
from .train import as_tensor

MANIFEST = "manifest.json"


def head_dir(out, layer, head):
    return os.path.join(out, f"layer{layer}", f"head{head}")


def capture(model, tokens):
    """{layer: {name: [tokens, heads, d]}} for tokens [chunks, context], by the training path."""
    found = {}

    def keep(layer):
        def hook(module, inputs, output):  # returns None: the output stays as it is
            found[layer] = module.activations(inputs[0])
        return hook

    hooks = [block.attention.register_forward_hook(keep(layer)) for layer, block in enumerate(model.blocks)]
    try:
        with torch.no_grad():
            model(tokens)
    finally:
        for hook in hooks:
            hook.remove()
    return {layer: {name: x.reshape(-1, *x.shape[2:]).numpy() for name, x in streams.items()}
            for layer, streams in found.items()}


def write_traces(model, text, out):
    """Writes the trace of text (bytes, a whole number of context windows) and returns the manifest."""
    config = model.config
    chunks = len(text) // config.context
    if chunks < 1 or len(text) % config.context:
        raise ValueError(f"text: {len(text)} bytes is not a positive multiple of the context {config.context}")
    tokens = as_tensor(text).reshape(chunks, config.context)
    layers = []
    for layer, streams in sorted(capture(model, tokens).items()):
        kind = model.blocks[layer].kind
        for head in range(config.heads):
            os.makedirs(head_dir(out, layer, head), exist_ok=True)
            for name, x in streams.items():
                np.save(os.path.join(head_dir(out, layer, head), f"{name}.npy"),
                        np.ascontiguousarray(x[:, head, :], dtype=np.float32))
        attention = model.blocks[layer].attention
        entry = {"layer": layer, "kind": kind, "heads": config.heads, "kv_heads": config.heads, "d": config.d,
                 "scale": attention.scale if kind == SIMPLICIAL else 1.0 / config.d ** 0.5,
                 "streams": sorted(streams)}
        if kind == SIMPLICIAL:
            entry.update(window={"w1": config.w1, "w2": config.w2}, variant="trilinear",
                         bias={"k2": 1.0 / config.d, "v2": 1.0, "applied": True})
        layers.append(entry)
    manifest = {"tokens": chunks * config.context, "chunks": chunks, "context": config.context,
                "layout": "layer{L}/head{H}/{name}.npy, [tokens, d] float32", "layers": layers}
    with open(os.path.join(out, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def read_trace(out, layer, head):
    """{name: [tokens, d]} of one layer's head, as written."""
    folder = head_dir(out, layer, head)
    return {name[:-4]: np.load(os.path.join(folder, name)) for name in sorted(os.listdir(folder))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the trace directory (created)")
    parser.add_argument("--chunks", type=int, default=8, help="context windows of held-out text")
    parser.add_argument("--model", default=SHIPPED, help="checkpoint directory")
    args = parser.parse_args(argv)
    model, _ = load(args.model)
    _, held_out = corpus.split(corpus.text())
    most = len(held_out) // model.config.context
    if not 1 <= args.chunks <= most:
        print(f"--chunks: {args.chunks} is out of range [1, {most}]", file=sys.stderr)
        return 2
    manifest = write_traces(model, held_out[:args.chunks * model.config.context], args.out)
    print(f"{args.out}: {len(manifest['layers'])} layers x {model.config.heads} heads, {manifest['tokens']} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
