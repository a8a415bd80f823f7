"""Obviously-correct float64 tensor attention: loops over the allowed pairs (docs/math.md §2, §9)."""
import math

import numpy as np


def score(q, k1_i, k2_j, variant):
    """The pair's score before scaling, as docs/math.md §9 publishes each variant."""
    if variant == "trilinear":
        return float(np.sum(q * k1_i * k2_j))
    if variant == "rank1":
        return float(np.dot(q, k1_i) + np.dot(q, k2_j))
    if variant == "strassen":
        return float(np.dot(q, k1_i) + np.dot(q, k2_j) + np.dot(k1_i, k2_j))
    raise ValueError(variant)


def attend_pairs(q, k1, k2, v1, v2, scale, pairs, variant="trilinear"):
    """One query, one head: q, k*, v* are float64 [d] / [n, d]; pairs lists (i, j)."""
    scores = [scale * score(q, k1[i], k2[j], variant) for i, j in pairs]
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    out = np.zeros(q.shape[-1])
    for w, (i, j) in zip(weights, pairs):
        out += (w / total) * v1[i] * v2[j]
    return out


def decode(q, k1, k2, v1, v2, scale, w1=None, w2=None, variant="trilinear", k2_bias=0.0, v2_bias=0.0):
    """q [h, n, d], keys and values [h_kv, n, d]: out[h, t] attends pairs i in (t-w1, t],
    j in (t-w2, t] (all when None) over kv head h // (h // h_kv), with k2 + k2_bias and
    v2 + v2_bias."""
    q, k1, k2, v1, v2 = (np.asarray(x, dtype=np.float64) for x in (q, k1, k2, v1, v2))
    k2, v2 = k2 + k2_bias, v2 + v2_bias
    h, n, _ = q.shape
    group = h // k1.shape[0]
    out = np.zeros(q.shape)
    for t in range(n):
        first = range(max(0, t - w1 + 1) if w1 else 0, t + 1)
        second = range(max(0, t - w2 + 1) if w2 else 0, t + 1)
        pairs = [(i, j) for i in first for j in second]
        for head in range(h):
            kv = head // group
            out[head, t] = attend_pairs(q[head, t], k1[kv], k2[kv], v1[kv], v2[kv], scale, pairs, variant)
    return out


def attend_stored(q, k1, k2, v1, v2, scale, variant="trilinear"):
    """Queries q [count, heads, d] over every pair of stored rows k1 … v2 [t, heads, d] (kv heads
    already spread over query heads), in float64, vectorised: [count, heads, d] float32."""
    q, k1, k2, v1, v2 = (np.asarray(x, dtype=np.float64) for x in (q, k1, k2, v1, v2))
    if variant == "trilinear":
        s = np.einsum("chd,ihd,jhd->chij", q, k1, k2)
    else:
        s = np.einsum("chd,ihd->chi", q, k1)[..., :, None] + np.einsum("chd,jhd->chj", q, k2)[..., None, :]
        if variant == "strassen":
            s = s + np.einsum("ihd,jhd->hij", k1, k2)[None]
    s = scale * s
    p = np.exp(s - s.max(axis=(2, 3), keepdims=True))
    p /= p.sum(axis=(2, 3), keepdims=True)
    return np.einsum("chij,ihd,jhd->chd", p, v1, v2).astype(np.float32)


def tokens(rng, n, heads, d, dtype=np.float32):
    """Five [n, heads, d] streams (q, k1, k2, v1, v2), token-major as caches take them."""
    return [rng.standard_normal((n, heads, d)).astype(dtype) for _ in range(5)]


def head_major(x):
    """[n, heads, d] -> [heads, n, d]."""
    return np.ascontiguousarray(np.transpose(x, (1, 0, 2)))
