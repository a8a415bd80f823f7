"""Which caches are exact, and equal-memory comparisons (docs/model.md): under a byte budget,
each approximate cache family is configured to its most accurate setting that fits, so families
are compared at equal memory with one counting rule. The rule is the C++ one (caches/budget.hpp,
trikv.fit_budget), the same the studies' `budget` key uses: each cache type declares its own
settings from least to most accurate (its accuracy ladder), and a setting fits when its resident
bytes at the context (its cost model) are within the budget. SubGen's size depends on the keys
(its cluster count), which an empty cache cannot know: it is counted after appending calibration
data (each 2-simplicial layer's k1, k2, v1, v2 of one sequence), the largest layer's count.

A budget is "25%" (of the exact `factor` cache's resident bytes at the model's context) or an
absolute byte count; it is the budget of one 2-simplicial layer's cache. "B0|B1|…" gives one per
kv head instead (each of one kv head's cache: its group of query heads over that kv head), and
each family is fitted per kv head into a "SPEC0|SPEC1|…" spec (network.PerKvHeadCache).
"""
import collections

from .. import BUDGET_REFERENCE as REFERENCE
from .. import Cache, budget_bytes, caches, fit_budget
from .. import parse_budget as _parse_budget

Choice = collections.namedtuple("Choice", "spec bytes")


def families():
    """Every registered cache type with a budget rule (its accuracy ladder), by name."""
    return [entry["name"] for entry in caches() if entry["budget_rule"]]


def is_exact(spec, heads=1, d=1, kv_heads=None):
    """Whether the cache computes attention exactly (up to float32 rounding), as the cache says
    (its type's answer for its parameters); built, so a type refusing the shape says so."""
    return Cache(spec, heads, d, kv_heads=kv_heads).exact


def is_reduced_storage(spec):
    """An approximate setting of a type that is exact with its defaults (factor:dtype=int8)."""
    name = spec.partition(":")[0]
    return not is_exact(spec) and any(entry["name"] == name and entry["exact"] for entry in caches())


def resident_bytes(spec, heads, d, tokens, kv_heads=None, calibration=None):
    """The budgets' counting rule (trikv.budget_bytes): the cost model's resident bytes at
    `tokens`; for a type whose bytes depend on the keys, the largest over the calibration
    sequences (a list, per layer, of k1, k2, v1, v2 [tokens, kv_heads, d] float32) after appending them."""
    return budget_bytes(spec, heads, d, tokens, kv_heads, _arrays(calibration))


def parse_budget(text, heads, d, tokens, kv_heads=None):
    """Bytes of one cache: "P%" of the exact factor cache at `tokens`, or a byte count;
    ValueError (one line) otherwise."""
    return _parse_budget(text, heads, d, tokens, kv_heads, field="--budget")


def fit(budget, heads, d, tokens, windows, kv_heads=None, calibration=None):
    """{family: Choice(spec, resident bytes)} of each approximate family's most accurate setting
    whose resident bytes at `tokens` are at most `budget`, windows no larger than the model's
    `windows` (w1, w2); a family with none that fits is left out."""
    at_most = {"w1": windows[0], "w2": windows[1]}
    data = _arrays(calibration)
    chosen = {}
    for family in families():
        found = fit_budget(family, heads, d, tokens, budget, kv_heads, data, at_most)
        if found is not None:
            chosen[family] = Choice(*found)
    return chosen


def fit_text(text, heads, d, tokens, windows, kv_heads=None, calibration=None):
    """(bytes, {family: Choice}) for a budget as written: one layer's ("25%") or one per kv head
    ("25%|10%": bytes is then the list, each family's spec "SPEC0|SPEC1", its bytes the sum; a
    family some head's budget fits none of its settings is left out)."""
    texts = text.split("|")
    if len(texts) == 1:
        size = parse_budget(text, heads, d, tokens, kv_heads)
        return size, fit(size, heads, d, tokens, windows, kv_heads, calibration)
    groups = kv_heads or heads
    if len(texts) != groups:
        raise ValueError(f"--budget: {text!r} gives {len(texts)} budgets for {groups} kv heads")
    group = heads // groups
    sizes, per_head = [], []
    for head, part in enumerate(texts):
        sizes.append(parse_budget(part, group, d, tokens, 1))
        streams = None if calibration is None else [[x[:, head:head + 1] for x in layer] for layer in calibration]
        per_head.append(fit(sizes[-1], group, d, tokens, windows, 1, streams))
    chosen = {family: Choice("|".join(c[family].spec for c in per_head), sum(c[family].bytes for c in per_head))
              for family in per_head[0] if all(family in c for c in per_head)}
    return sizes, chosen


def _arrays(calibration):
    """Calibration as the binding takes it: per sequence, (k1, k2, v1, v2) float32 NumPy arrays."""
    if calibration is None:
        return None
    return [tuple(_numpy(x) for x in streams) for streams in calibration]


def _numpy(x):
    return x.detach().contiguous().float().numpy() if hasattr(x, "detach") else x
