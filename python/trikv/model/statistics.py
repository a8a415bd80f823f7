"""How a trace's activations differ from the synthetic data trikv's studies use: score
magnitudes, how peaked the softmax is, how clusterable the keys are (SubGen's premise) and how
sparse the rows are (the VAR sparsity prior) — docs/model.md:

    python3 -m trikv.model.statistics --trace traces/kjv [--tokens 256]

Every 2-simplicial head of the trace is compared with N(0, 1) data of the same shape (what
`kind = "gaussian"` feeds a study); scores use the layer's scale and the model's windows.
"""
import argparse
import json
import os
import sys

import numpy as np

from .traces import MANIFEST, read_trace

DELTA = 0.5          # SubGen's default cluster radius, relative to the centre's norm
SMALL = 0.1          # an entry is "near zero" below SMALL times its stream's RMS
TOP = 8              # coordinates whose share of a row's squared norm is reported
PAIRS = 2048         # pair keys k1_i ∘ k2_j, (i, j) drawn uniformly, that are clustered


def window_scores(q, k1, k2, scale, w1, w2):
    """Per query t: the scores scale·<q_t, k1_i ∘ k2_j> over i in (t−w1, t], j in (t−w2, t]."""
    out = []
    for t in range(len(q)):
        a, b = k1[max(0, t - w1 + 1):t + 1], k2[max(0, t - w2 + 1):t + 1]
        out.append(scale * np.einsum("l,il,jl->ij", q[t], a, b).ravel())
    return out


def softmax_shape(scores):
    """(mean normalised entropy, mean top-1 weight) over queries with more than one pair."""
    entropies, tops = [], []
    for s in scores:
        if len(s) < 2:
            continue
        p = np.exp(s - s.max())
        p /= p.sum()
        entropies.append(-(p * np.log(np.maximum(p, 1e-300))).sum() / np.log(len(s)))
        tops.append(p.max())
    return float(np.mean(entropies)), float(np.mean(tops))


def greedy_clusters(keys, delta=DELTA):
    """Clusters SubGen's rule makes: a key joins the first centre c with |k − c| ≤ δ|c|."""
    centres, norms = np.empty((0, keys.shape[1])), np.empty(0)
    for k in keys:
        if not (np.linalg.norm(centres - k, axis=1) <= delta * norms).any():
            centres, norms = np.vstack([centres, k]), np.append(norms, np.linalg.norm(k))
    return len(centres)


def sparsity(x):
    """(fraction of entries below SMALL·RMS, mean share of a row's squared norm in its TOP largest)."""
    rms = np.sqrt(np.mean(x ** 2))
    squares = np.sort(x ** 2, axis=1)[:, ::-1]
    return float(np.mean(np.abs(x) < SMALL * rms)), float(np.mean(squares[:, :TOP].sum(1) / squares.sum(1)))


def describe(streams, scale, w1, w2):
    q, k1, k2, v1, v2 = (streams[n].astype(np.float64) for n in ("q", "k1", "k2", "v1", "v2"))
    scores = window_scores(q, k1, k2, scale, w1, w2)
    flat = np.concatenate(scores)
    entropy, top = softmax_shape(scores)
    pairs = np.random.default_rng(0).integers(0, len(k1), size=(PAIRS, 2))
    pair_keys = k1[pairs[:, 0]] * k2[pairs[:, 1]]
    near_zero, top_share = zip(*(sparsity(x) for x in (k1, k2, v1, v2)))
    return {"score_std": float(flat.std()), "score_abs_max": float(np.abs(flat).max()),
            "softmax_entropy": entropy, "softmax_top1": top,
            "clusters_k1": greedy_clusters(k1), "clusters_pair_keys": greedy_clusters(pair_keys),
            "pair_keys": len(pair_keys), "keys": len(k1),
            "near_zero_fraction": float(np.mean(near_zero)), "top8_energy_share": float(np.mean(top_share))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace", required=True, help="a directory written by trikv.model.traces")
    parser.add_argument("--tokens", type=int, default=256, help="first tokens of each head to use")
    args = parser.parse_args(argv)
    manifest_path = os.path.join(args.trace, MANIFEST)
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("tokens"), int) \
                or not isinstance(manifest.get("layers"), list):
            raise ValueError("no integer 'tokens' and list 'layers'")
    except (OSError, ValueError) as error:
        print(f"--trace: {manifest_path}: {error}".splitlines()[0], file=sys.stderr)
        return 2
    if not 1 <= args.tokens <= manifest["tokens"]:
        print(f"--tokens: {args.tokens} is out of range [1, {manifest['tokens']}]", file=sys.stderr)
        return 2
    rows = []
    for entry in manifest["layers"]:
        if "k1" not in entry["streams"]:
            continue
        w1, w2 = entry["window"]["w1"], entry["window"]["w2"]
        for head in range(entry["heads"]):
            streams = {n: x[:args.tokens] for n, x in read_trace(args.trace, entry["layer"], head).items()}
            # Statistics of a NaN are NaN: refuse the trace rather than print nan and exit 0.
            bad = next((n for n in sorted(streams) if not np.isfinite(streams[n]).all()), None)
            if bad is not None:
                print(f"--trace: layer {entry['layer']} head {head}: {bad}.npy holds NaN or infinity in its first "
                      f"{args.tokens} tokens; a trace must be finite", file=sys.stderr)
                return 2
            rows.append({"data": f"trace layer {entry['layer']} head {head}",
                         **describe(streams, entry["scale"], w1, w2)})
        rng = np.random.default_rng(0)
        gaussian = {n: rng.standard_normal((args.tokens, entry["d"])) for n in ("q", "k1", "k2", "v1", "v2")}
        rows.append({"data": "gaussian N(0,1)", **describe(gaussian, entry["scale"], w1, w2)})
    print(",".join(rows[0]))
    for row in dict((r["data"], r) for r in rows).values():
        print(",".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
