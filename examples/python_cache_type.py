"""A new cache type written in Python, measured beside the built-in ones.

    python3 examples/python_cache_type.py [--out results/python-cache-type]

`RecentTokens` keeps only the last `keep` tokens and attends every pair among them: the idea
behind the built-in `window:w1=K,w2=K`, prototyped in NumPy. Registered with trikv.register, it
is a cache type like any other: trikv.Cache and trikv.attend build it from a spec, and a study
times it, records its (self-reported) bytes and its error against the float64 exact answer
beside `window` (its C++ counterpart: the same outputs) and `factor` (exact). docs/python.md,
"Cache types written in Python"."""
import argparse

import numpy as np

import trikv


class RecentTokens(trikv.PyCache):
    """The last `keep` tokens, every pair among them (a prototype of window:w1=keep,w2=keep)."""

    def __init__(self, heads, d, scale, kv_heads, variant, keep):
        super().__init__(heads, d, scale, kv_heads, variant)
        self.keep = keep
        self.tokens = np.zeros((0, 4, self.kv_heads, d), np.float32)  # [t, (k1, k2, v1, v2), kv_heads, d]

    def append(self, k1, k2, v1, v2):
        block = np.stack([k1, k2, v1, v2], axis=1)  # a copy: the views are trikv's buffers
        self.tokens = np.concatenate([self.tokens, block])[-self.keep:]

    def attend(self, q):
        # Each query head reads its kv head; scores of every stored pair (i, j), softmax over both.
        k1, k2, v1, v2 = (np.repeat(self.tokens[:, s], self.group, axis=1).astype(np.float64) for s in range(4))
        q = q.astype(np.float64)
        if self.variant == "trilinear":
            scores = np.einsum("chd,ihd,jhd->chij", q, k1, k2)
        else:  # rank1, strassen (docs/math.md §9)
            scores = np.einsum("chd,ihd->chi", q, k1)[..., :, None] + np.einsum("chd,jhd->chj", q, k2)[..., None, :]
            if self.variant == "strassen":
                scores += np.einsum("ihd,jhd->hij", k1, k2)[None]
        scores *= self.scale
        weights = np.exp(scores - scores.max(axis=(2, 3), keepdims=True))
        weights /= weights.sum(axis=(2, 3), keepdims=True)
        return np.einsum("chij,ihd,jhd->chd", weights, v1, v2).astype(np.float32)

    def clear(self):
        self.tokens = self.tokens[:0]

    @property
    def bytes(self):
        return self.tokens.nbytes

    def cost(self, tokens):
        stored, width = min(tokens, self.keep), self.heads * self.d
        return dict(resident_bytes=16.0 * stored * self.kv_heads * self.d,
                    transient_bytes=8.0 * stored * stored * self.heads * 2,
                    flops=4.0 * stored * stored * width, bytes_moved=16.0 * stored * self.kv_heads * self.d)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/python-cache-type", help="the study's output directory")
    out = parser.parse_args().out
    trikv.register("recent", RecentTokens, params={"keep": trikv.Param(16, "tokens kept", min=1, max=1e6)},
                   variants=["trilinear", "rank1", "strassen"])

    # The prototype against its C++ counterpart, on grouped heads with a variant and the bias.
    rng = np.random.default_rng(0)
    q = rng.standard_normal((4, 40, 16)).astype(np.float32)
    keys = [rng.standard_normal((2, 40, 16)).astype(np.float32) for _ in range(4)]
    options = dict(variant="strassen", k2_bias="default", v2_bias="default")
    mine = trikv.attend(q, *keys, cache="recent:keep=16", **options)
    builtin = trikv.attend(q, *keys, cache="window:w1=16,w2=16", **options)
    print(f"recent:keep=16 against window:w1=16,w2=16: largest difference {np.abs(mine - builtin).max():.2e}")

    study = {"name": "python-cache-type", "caches": ["recent:keep=16", "window:w1=16,w2=16", "factor"],
             "n": [64], "d": [16], "heads": [2], "warmup": 1, "repetitions": 3, "measure_peaks": False,
             "figures": []}
    rows = trikv.run_study(study, out=out)
    print(f"{'cache':34} {'ms/step':>9} {'bytes':>8} {'logical':>8} {'bytes from':>13} {'rel. error':>10}")
    for r in rows:
        print(f"{r['cache']:34} {r['step_ms_median']:>9.4f} {r['bytes']:>8.0f} {r['logical_bytes']:>8.0f} "
              f"{r['bytes_source']:>13} {r['rel_l2_error']:>10.2e}")


if __name__ == "__main__":
    main()
