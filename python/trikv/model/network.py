"""A decoder-only transformer whose attention layers interleave standard and 2-simplicial
attention (Roy et al. 2025; docs/math.md §9, docs/model.md): a byte-level language model
(outputs = 0: next-token logits through the tied embedding) or a per-position classifier
(outputs = k classes, the Match3 task).

Every layer is pre-norm: x + attention(norm(x)), then x + mlp(norm(x)). A 2-simplicial layer
projects each token to q (heads × d) and k1, k2, v1, v2 (kv_heads × d each: query head h reads
kv head h // (heads // kv_heads)), adds the reference's bias (k2 + 1/d, v2 + 1) before
attending, so a trikv cache stores the biased rows, and attends the windowed (j, k) plane:
i − w1 < j ≤ i, i − w2 < k ≤ i, scale 1/√d, variant trilinear. Without windows (w1 = w2 =
None) it attends the full causal square, the seed paper's setting.
"""
import dataclasses
import json
import math

import torch
from torch import nn
from torch.nn import functional as F

from ..torch import CacheGroup, SimplicialAttention

STANDARD, SIMPLICIAL = "standard", "simplicial"


@dataclasses.dataclass
class Config:
    d_model: int = 128
    heads: int = 4
    layers: tuple = (STANDARD, SIMPLICIAL, STANDARD, SIMPLICIAL)  # Roy et al. interleave
    context: int = 128
    w1: int = 8           # k1/v1 window of the 2-simplicial layers; None: the full square
    w2: int = 32          # k2/v2 window; None: the full square
    mlp_ratio: int = 4
    kv_heads: int = None  # key/value heads of the 2-simplicial layers; None: one per query head
    vocabulary: int = 256  # bytes: no tokenizer
    outputs: int = 0      # 0: next-token logits (tied embedding); k: k classes per position

    @property
    def d(self):
        return self.d_model // self.heads

    @property
    def groups(self):
        """kv heads of the 2-simplicial layers."""
        return self.kv_heads or self.heads

    @property
    def windows(self):
        """(w1, w2) the training path attends: the context for a full-square model."""
        return (self.w1 or self.context, self.w2 or self.context)

    @property
    def windowed(self):
        return self.w1 is not None

    def to_json(self):
        return json.dumps(dict(dataclasses.asdict(self), layers=list(self.layers)), indent=2)

    @staticmethod
    def from_dict(values):
        return Config(**dict(values, layers=tuple(values["layers"])))


def simplicial_bias(d):
    """The reference's default shifts: k2 + 1/d, v2 + 1 (docs/math.md §9)."""
    return 1.0 / d, 1.0


def windowed_simplicial_attention(q, k1, k2, v1, v2, w1, w2, scale):
    """trikv.torch.simplicial_attention for the training path in O(seq · w1 · w2) memory and
    time instead of O(seq³): only the pairs inside both windows are materialised.
    q [batch, seq, heads, d], keys and values [batch, seq, kv_heads, d]; out like q."""
    seq = q.shape[1]
    group = q.shape[2] // k1.shape[2]  # query head h reads kv head h // group
    k1, k2, v1, v2 = (x.repeat_interleave(group, dim=2) for x in (k1, k2, v1, v2))

    def window(x, w):  # [b, i, h, :, a] = x[b, i − (w − 1) + a], zero rows before token 0
        return F.pad(x, (0, 0, 0, 0, w - 1, 0)).unfold(1, w, 1)

    def valid(w):  # [i, a]: position i − (w − 1) + a is a token
        return (torch.arange(seq)[:, None] - (w - 1) + torch.arange(w)[None, :]) >= 0

    k1_window, v1_window, k2_window, v2_window = window(k1, w1), window(v1, w1), window(k2, w2), window(v2, w2)
    scores = torch.einsum("bihla,bihlc->bhiac", (q * scale).unsqueeze(-1) * k1_window, k2_window)
    allowed = valid(w1)[:, :, None] & valid(w2)[:, None, :]
    scores = scores.masked_fill(~allowed.to(q.device), float("-inf"))
    p = torch.softmax(scores.flatten(-2), dim=-1).reshape(scores.shape)
    u = torch.einsum("bhiac,bihlc->bihla", p, v2_window)
    return (u * v1_window).sum(-1)


class StandardAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads, self.d = config.heads, config.d
        self.project = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.out = nn.Linear(config.d_model, config.d_model, bias=False)

    def activations(self, x):
        """{'q', 'k', 'v'}: [batch, seq, heads, d] each."""
        q, k, v = self.project(x).reshape(*x.shape[:2], 3, self.heads, self.d).unbind(2)
        return {"q": q, "k": k, "v": v}

    def forward(self, x, cache=None):
        a = self.activations(x)
        if cache is not None:  # generation: a plain list of past keys and values
            cache.append(a["k"], a["v"])
            k, v = cache.keys(), cache.values()
            causal = None
        else:
            k, v = a["k"], a["v"]
            seq = x.shape[1]
            causal = torch.ones(seq, seq, dtype=torch.bool, device=x.device).tril()
        scores = torch.einsum("bihd,bjhd->bhij", a["q"], k) / math.sqrt(self.d)
        if causal is not None:
            scores = scores.masked_fill(~causal, float("-inf"))
        y = torch.einsum("bhij,bjhd->bihd", torch.softmax(scores, dim=-1), v)
        return self.out(y.reshape(*x.shape))


class StandardCache:
    """The generation path's keys and values of one standard layer."""

    def __init__(self):
        self.k, self.v = [], []

    def append(self, k, v):
        self.k.append(k.detach())
        self.v.append(v.detach())

    def keys(self):
        return torch.cat(self.k, dim=1)

    def values(self):
        return torch.cat(self.v, dim=1)


class PerKvHeadCache(CacheGroup):
    """One LayerCache per kv head, each serving that head's group of query heads: a different
    cache (or budget) per kv head, as LayerCache's interface."""

    def __init__(self, caches, group):
        self.caches, self.group = caches, group

    def append(self, k1, k2, v1, v2):
        """[batch, count, kv_heads, d] each."""
        for head, cache in enumerate(self.caches):
            cache.append(*(x[:, :, head:head + 1] for x in (k1, k2, v1, v2)))

    def attend(self, q):
        """q [batch, heads, d] -> [batch, heads, d]."""
        return torch.cat([c.attend(q[:, h * self.group:(h + 1) * self.group]) for h, c in enumerate(self.caches)], 1)


class TwoSimplicialAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads, self.kv_heads, self.d = config.heads, config.groups, config.d
        self.w1, self.w2 = config.windows
        self.scale = 1.0 / math.sqrt(self.d)
        self.project = nn.Linear(config.d_model, (config.heads + 4 * self.kv_heads) * self.d, bias=False)
        self.out = nn.Linear(config.d_model, config.d_model, bias=False)
        self.decoder = SimplicialAttention(self.w1, self.w2, self.scale)

    def activations(self, x):
        """{'q': [batch, seq, heads, d], 'k1', 'k2', 'v1', 'v2': [batch, seq, kv_heads, d]},
        k2 and v2 biased."""
        projected = self.project(x)
        q = projected[..., :self.heads * self.d].reshape(*x.shape[:2], self.heads, self.d)
        k1, k2, v1, v2 = projected[..., self.heads * self.d:].reshape(*x.shape[:2], 4, self.kv_heads, self.d).unbind(2)
        k_bias, v_bias = simplicial_bias(self.d)
        return {"q": q, "k1": k1, "k2": k2 + k_bias, "v1": v1, "v2": v2 + v_bias}

    def new_cache(self, spec, batch):
        """A trikv LayerCache of spec, or with "SPEC0|SPEC1|…" one per kv head (and its group of
        query heads)."""
        if "|" not in spec:
            return self.decoder.new_cache(spec, batch, self.heads, self.d, kv_heads=self.kv_heads)
        specs = spec.split("|")
        if len(specs) != self.kv_heads:
            raise ValueError(f"cache: {spec!r} gives {len(specs)} specs for {self.kv_heads} kv heads")
        group = self.heads // self.kv_heads
        return PerKvHeadCache([self.decoder.new_cache(s, batch, group, self.d, kv_heads=1) for s in specs], group)

    def forward(self, x, cache=None):
        a = self.activations(x)
        names = ("q", "k1", "k2", "v1", "v2")
        if cache is None:
            y = windowed_simplicial_attention(*(a[n] for n in names), self.w1, self.w2, self.scale)
        else:
            y = self.decoder(*(a[n] for n in names), cache=cache)
        return self.out(y.reshape(*x.shape))


class Block(nn.Module):
    def __init__(self, config, kind):
        super().__init__()
        self.kind = kind
        self.attention_norm = nn.LayerNorm(config.d_model)
        self.attention = (TwoSimplicialAttention if kind == SIMPLICIAL else StandardAttention)(config)
        self.mlp_norm = nn.LayerNorm(config.d_model)
        hidden = config.mlp_ratio * config.d_model
        self.mlp = nn.Sequential(nn.Linear(config.d_model, hidden), nn.GELU(), nn.Linear(hidden, config.d_model))

    def forward(self, x, cache=None):
        x = x + self.attention(self.attention_norm(x), cache)
        return x + self.mlp(self.mlp_norm(x))


class LanguageModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocabulary, config.d_model)
        self.position = nn.Embedding(config.context, config.d_model)
        self.blocks = nn.ModuleList(Block(config, kind) for kind in config.layers)
        self.norm = nn.LayerNorm(config.d_model)
        if config.outputs:
            self.classify = nn.Linear(config.d_model, config.outputs)
        for table in (self.embed, self.position):  # small: the output logits start near zero
            nn.init.normal_(table.weight, std=0.02)

    def forward(self, tokens, caches=None, start=0):
        """tokens [batch, seq] (positions start..start+seq−1) -> logits [batch, seq, vocabulary]
        (or [batch, seq, outputs] for a classifier). caches: one per layer (new_caches) for the
        generation path, else the training path."""
        positions = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        x = self.embed(tokens) + self.position(positions)
        for layer, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[layer])
        if self.config.outputs:
            return self.classify(self.norm(x))
        return self.norm(x) @ self.embed.weight.T  # tied input and output embeddings

    def new_caches(self, specs, batch=1):
        """The generation path's caches: in the 2-simplicial layers trikv caches of `specs` (one
        spec for all of them, or a list with one per 2-simplicial layer, in order), a plain
        key/value list in the standard ones."""
        simplicial = [b for b in self.blocks if b.kind == SIMPLICIAL]
        specs = [specs] * len(simplicial) if isinstance(specs, str) else list(specs)
        if len(specs) != len(simplicial):
            raise ValueError(f"cache: {len(specs)} layer specs for {len(simplicial)} 2-simplicial layers")
        per_layer = iter(specs)
        return [b.attention.new_cache(next(per_layer), batch) if b.kind == SIMPLICIAL else StandardCache()
                for b in self.blocks]


def next_byte_loss(model, chunks):
    """Mean cross-entropy (nats per byte) of each byte of chunks [batch, context + 1] given
    the bytes before it in its chunk, by the training path."""
    logits = model(chunks[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunks[:, 1:].reshape(-1))
