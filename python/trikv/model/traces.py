"""Captures a model's activations over held-out text: every layer's and head's q, k1, k2, v1, v2
(q, k, v for a standard layer) as .npy, one [tokens, d] float32 array each, in a layout the C++
study reads without a JSON parser, plus manifest.json for people and Python (docs/model.md):

    DIR/manifest.json
    DIR/layer{L}/head{H}/{q,k1,k2,v1,v2}.npy      2-simplicial layer (k2, v2 biased, as cached)
    DIR/layer{L}/head{H}/{q,k,v}.npy              standard layer

    python3 -m trikv.model.traces --model kjv-square --out traces/kjv --tokens 128

The text is the first `tokens` bytes of the held-out part. When they fit in the model's context
they run as one sequence from an empty context and the trace is contiguous (manifest
"contiguous": true); otherwise they run as consecutive windows of the context, each from an
empty context (positions restart), and the manifest says so ("contiguous": false, "assembled").
A 2-simplicial layer with grouped heads writes, in head H's folder, query head H's q beside the
k1, k2, v1, v2 of the kv head it reads (H // (heads // kv_heads)). Only language models have traces.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from . import corpus
from .checkpoint import CheckpointError, load, writable_directory
from .network import SIMPLICIAL
from .tasks import Language, as_tensor
from .zoo import lookup

MANIFEST = "manifest.json"
DEFAULT_CONTEXTS = 8  # --tokens by default: 8 contexts (1,024 tokens of kjv-window, what studies/model-trace.toml needs)


def head_dir(out, layer, head):
    return os.path.join(out, f"layer{layer}", f"head{head}")


def capture(model, tokens):
    """{layer: {name: [tokens, heads or kv_heads, d]}} for tokens [sequences, length], by the training path."""
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
    """Writes the trace of text (bytes: at most one context, or a whole number of contexts) and
    returns the manifest."""
    config = model.config
    contiguous = len(text) <= config.context
    if not text or not contiguous and len(text) % config.context:
        raise ValueError(f"--tokens: {len(text)} is neither at most the context {config.context} nor a multiple of it")
    length = len(text) if contiguous else config.context
    tokens = as_tensor(text).reshape(-1, length)
    layers = []
    for layer, streams in sorted(capture(model, tokens).items()):
        kind = model.blocks[layer].kind
        for head in range(config.heads):
            os.makedirs(head_dir(out, layer, head), exist_ok=True)
            for name, x in streams.items():
                source = head * x.shape[1] // config.heads  # the kv head a query head reads
                np.save(os.path.join(head_dir(out, layer, head), f"{name}.npy"),
                        np.ascontiguousarray(x[:, source, :], dtype=np.float32))
        attention = model.blocks[layer].attention
        entry = {"layer": layer, "kind": kind, "heads": config.heads,
                 "kv_heads": config.groups if kind == SIMPLICIAL else config.heads, "d": config.d,
                 "scale": attention.scale if kind == SIMPLICIAL else 1.0 / config.d ** 0.5,
                 "streams": sorted(streams)}
        if kind == SIMPLICIAL:
            w1, w2 = config.windows
            entry.update(window={"w1": w1, "w2": w2}, full_square=not config.windowed, variant="trilinear",
                         bias={"k2": 1.0 / config.d, "v2": 1.0, "applied": True})
        layers.append(entry)
    manifest = {"tokens": len(text), "context": config.context, "contiguous": contiguous,
                "layout": "layer{L}/head{H}/{name}.npy, [tokens, d] float32", "layers": layers}
    if not contiguous:
        manifest["assembled"] = (f"{len(tokens)} consecutive held-out windows of {config.context} tokens, "
                                 "each run from an empty context")
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
    parser.add_argument("--model", default="kjv-window", help="a zoo language model (python3 -m trikv.model.zoo)")
    parser.add_argument("--checkpoint", help="a checkpoint directory other than the zoo's")
    parser.add_argument("--out", required=True, help="the trace directory (created)")
    parser.add_argument("--tokens", type=int, help=f"held-out bytes (default: {DEFAULT_CONTEXTS} contexts)")
    args = parser.parse_args(argv)
    try:
        entry = lookup(args.model)
        if not isinstance(entry.task, Language):
            raise ValueError(f"--model: {entry.name} is not a language model; traces are of held-out text")
        model, _ = load(args.checkpoint or entry.directory)
        tokens = DEFAULT_CONTEXTS * model.config.context if args.tokens is None else args.tokens
        _, held_out = corpus.split(entry.task.text())
        if not 1 <= tokens <= len(held_out):
            raise ValueError(f"--tokens: {tokens} is out of range [1, {len(held_out)}]")
        if tokens > model.config.context and tokens % model.config.context:
            raise ValueError(f"--tokens: {tokens} exceeds the context {model.config.context} "
                             "and is not a multiple of it")
        writable_directory(args.out, "--out")
    except (ValueError, CheckpointError) as error:
        print(error, file=sys.stderr)
        return 2
    manifest = write_traces(model, held_out[:tokens], args.out)
    how = "contiguous" if manifest["contiguous"] else manifest["assembled"]
    print(f"{args.out}: {len(manifest['layers'])} layers x {model.config.heads} heads, {manifest['tokens']} tokens ({how})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
