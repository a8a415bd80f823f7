"""2-simplicial (tensor) attention as a PyTorch module, with trikv caches for generation.

SimplicialAttention computes, for q [batch, seq, heads, d] and keys and values
[batch, seq, kv_heads, d], what Meta's published reference (FBGEMM's torch_fwd_ref) does:
query i attends the pairs (j, k) with i - w1 < j <= i and i - w2 < k <= i, scores
scale * sum_l q_il k1_jl k2_kl (variant "trilinear"; "rank1" and "strassen" as in
docs/math.md §9; scale 1/sqrt(d) by default), one softmax over the (j, k) plane, output
sum p_ijk (v1_j * v2_k). Query head h reads kv head h // (heads // kv_heads); k2 + k2_bias and
v2 + v2_bias replace k2 and v2 (0, the default, is no shift; the reference's own defaults are
1/d and 1). trikv's k1/v1 stream is the first index of a pair (window w1) and k2/v2 the second
(window w2).
"""
import math
import numbers

import numpy as np
import torch
from torch import nn

from ._core import Cache


def _scores(q, k1, k2, variant):
    """Unscaled scores [batch, heads, i, j, k] of docs/math.md §9's variant."""
    if variant == "trilinear":
        return torch.einsum("bihd,bjhd,bkhd->bhijk", q, k1, k2)
    first = torch.einsum("bihd,bjhd->bhij", q, k1)[..., :, None]
    second = torch.einsum("bihd,bkhd->bhik", q, k2)[..., None, :]
    if variant == "rank1":
        return first + second
    if variant == "strassen":
        return first + second + torch.einsum("bjhd,bkhd->bhjk", k1, k2)[:, :, None]
    raise ValueError(f"variant={variant!r} is not one of trilinear, rank1, strassen")


def _check_window(name, value):
    """A window holds at least the token itself: w < 1 would mask every pair (all-NaN output)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: {value!r} is not a whole number >= 1 (a window includes the query's own token)")


def simplicial_attention(q, k1, k2, v1, v2, w1, w2, scale=None, variant="trilinear", k2_bias=0.0, v2_bias=0.0):
    """The training path in plain torch (differentiable): q [batch, seq, heads, d], keys and
    values [batch, seq, kv_heads, d] in, [batch, seq, heads, d] out. Memory grows as seq^3 per
    head: a reference, not a kernel."""
    _check_window("w1", w1)
    _check_window("w2", w2)
    batch, seq, heads, d = q.shape
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    group = heads // k1.shape[2]  # query head h reads kv head h // group
    k1, k2, v1, v2 = (x.repeat_interleave(group, dim=2) for x in (k1, k2 + k2_bias, v1, v2 + v2_bias))
    position = torch.arange(seq, device=q.device)
    behind = position[:, None] - position[None, :]  # [i, j] = i - j
    allowed = ((behind >= 0) & (behind < w1))[:, :, None] & ((behind >= 0) & (behind < w2))[:, None, :]
    scores = (scale * _scores(q, k1, k2, variant)).masked_fill(~allowed, float("-inf"))
    p = torch.softmax(scores.reshape(batch, heads, seq, seq * seq), dim=-1).reshape(scores.shape)
    u = torch.einsum("bhijk,bkhd->bhijd", p, v2)
    return torch.einsum("bhijd,bjhd->bihd", u, v1)


def _float32(x):
    # Contiguous float32 CPU tensors are shared with NumPy, so trikv reads them in place.
    return x.detach().to(device="cpu", dtype=torch.float32).contiguous().numpy()


class CacheGroup:
    """Caches (self.caches) that act as one: they hold the same tokens, their bytes add up."""

    def __len__(self):
        return len(self.caches[0])

    @property
    def bytes(self):
        return sum(c.bytes for c in self.caches)


class LayerCache(CacheGroup):
    """One layer's KV cache for generation: one trikv.Cache per batch element."""

    def __init__(self, spec, batch, heads, d, scale, **shape):
        """shape: kv_heads, variant, k2_bias, v2_bias, as trikv.Cache takes them."""
        self.caches = [Cache(spec, heads, d, scale, **shape) for _ in range(batch)]

    def append(self, k1, k2, v1, v2):
        """Stores [batch, count, kv_heads, d] tokens (the caches add the bias)."""
        k1, k2, v1, v2 = (_float32(x) for x in (k1, k2, v1, v2))
        for b, cache in enumerate(self.caches):
            cache.append(k1[b], k2[b], v1[b], v2[b])

    def attend(self, q):
        """q [batch, heads, d] (one new token per element) -> [batch, heads, d]."""
        q = _float32(q)
        return torch.from_numpy(np.stack([c.attend(q[b]) for b, c in enumerate(self.caches)]))


class SimplicialAttention(nn.Module):
    """2-simplicial attention over windows w1 (k1/v1) and w2 (k2/v2); see the module's doc.

        attention = SimplicialAttention(w1=32, w2=512)             # variant=, k2_bias=, v2_bias=
        y = attention(q, k1, k2, v1, v2)                         # training: plain torch
        cache = attention.new_cache("window:w1=32,w2=512", batch, heads, d, kv_heads=1)
        y = attention(q[:, :p], ..., cache=cache)                 # prefill: training path, tokens stored
        y_t = attention(q[:, p:p+1], ..., cache=cache)            # decode: through the trikv cache

    trikv caches attend every stored pair, except window:w1=...,w2=..., so decode equals the
    training path when the cache is that window spec with the module's windows, or an exact
    cache (factor, product, ...) while the sequence fits in both windows. The generation path
    does not propagate gradients.
    """

    def __init__(self, w1, w2, scale=None, variant="trilinear", k2_bias=0.0, v2_bias=0.0):
        super().__init__()
        _check_window("w1", w1)
        _check_window("w2", w2)
        self.w1, self.w2, self.scale = w1, w2, scale
        self.variant, self.k2_bias, self.v2_bias = variant, k2_bias, v2_bias

    def new_cache(self, spec, batch, heads, d, kv_heads=None):
        """A LayerCache of trikv cache `spec` for this module's scale, variant and bias."""
        return LayerCache(spec, batch, heads, d, self._scale(d), kv_heads=kv_heads, variant=self.variant,
                          k2_bias=self.k2_bias, v2_bias=self.v2_bias)

    def _train(self, q, k1, k2, v1, v2):
        return simplicial_attention(q, k1, k2, v1, v2, self.w1, self.w2, self.scale, self.variant, self.k2_bias,
                                    self.v2_bias)

    def _scale(self, d):
        return 1.0 / math.sqrt(d) if self.scale is None else self.scale

    def forward(self, q, k1, k2, v1, v2, cache=None):
        if cache is None:
            return self._train(q, k1, k2, v1, v2)
        if len(cache) == 0 and q.shape[1] > 1:
            # Prefill: the prompt's outputs by the training path, its tokens stored as one block.
            with torch.no_grad():
                out = self._train(q, k1, k2, v1, v2)
            cache.append(k1, k2, v1, v2)
            return out
        steps = []
        for t in range(q.shape[1]):
            cache.append(k1[:, t:t + 1], k2[:, t:t + 1], v1[:, t:t + 1], v2[:, t:t + 1])
            steps.append(cache.attend(q[:, t]))
        return torch.stack(steps, dim=1).to(dtype=q.dtype, device=q.device)
