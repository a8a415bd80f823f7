"""Which caches are exact, and equal-memory comparisons (docs/model.md): under a byte budget,
each approximate cache family is configured to its most accurate setting that fits, by the
cache's own cost model (trikv.Cache(spec, heads, d).cost(n)["resident_bytes"]), so families
are compared at equal memory with one counting rule. SubGen's size depends on the keys (its
cluster count), which an empty cache's cost model cannot know: with calibration data (each
2-simplicial layer's k1, k2, v1, v2 of one sequence) every candidate is filled with them and its
resident bytes then are what counts, for every layer.

A budget is "25%" (of the exact `factor` cache's resident bytes at the model's context) or an
absolute byte count; it is the budget of one 2-simplicial layer's cache.
"""
import collections
import itertools

from .. import Cache

REFERENCE = "factor"  # the exact cache a percentage budget is a fraction of
Choice = collections.namedtuple("Choice", "spec bytes parameters")

# Each family's accuracy knobs: a larger window (up to the model's own: a windowed model never
# saw pairs beyond it), more samples, a higher degree, a wider storage type. A family's
# candidates are a grid of these values, given the model's windows (w1, w2); the most accurate
# candidate that fits is the largest by `rank`.
DTYPES = ["f32", "fp16", "bf16", "int8"]  # fp16 keeps more mantissa than bf16
MOST_SAMPLES = 64  # SubGen decodes slowly; the old sweep stopped at 32
FAMILIES = {
    "window": lambda w1, w2: [{"w1": a, "w2": b} for a, b in itertools.product(_powers(w1), _powers(w2))],
    "subgen2": lambda w1, w2: [{"samples": s} for s in _powers(MOST_SAMPLES)],
    "subgen4": lambda w1, w2: [{"samples": s} for s in _powers(MOST_SAMPLES)],
    "poly": lambda w1, w2: [{"degree": g} for g in (1, 2, 3)],
    "factor": lambda w1, w2: [{"dtype": t} for t in DTYPES[1:]],
    "product": lambda w1, w2: [{"dtype": t} for t in DTYPES[1:]],
}


REDUCED_STORAGE = {"factor", "product"}  # families whose knob is only the storage type


def _powers(most):
    """1, 2, 4, … up to most, and most itself."""
    values = [1 << e for e in range(most.bit_length()) if 1 << e <= most]
    return sorted(set(values + [most]))


def rank(parameters):
    """Larger is more accurate: pairs a window covers (then its w1), samples, degree, dtype width."""
    if "w1" in parameters:
        return (parameters["w1"] * parameters["w2"], parameters["w1"])
    if "dtype" in parameters:
        return (-DTYPES.index(parameters["dtype"]),)
    return tuple(parameters.values())


def spec_of(family, parameters):
    return family + ":" + ",".join(f"{k}={v}" for k, v in parameters.items())


def is_exact(spec, heads=1, d=1, kv_heads=None):
    """Whether the cache computes attention exactly (up to float32 rounding), as the cache says
    (its type's answer for its parameters); built, so a type refusing the shape says so."""
    return Cache(spec, heads, d, kv_heads=kv_heads).exact


def resident_bytes(spec, heads, d, tokens, kv_heads=None, calibration=None):
    """The cost model's resident bytes at `tokens`; with calibration (a list, per layer, of
    k1, k2, v1, v2 [tokens, kv_heads, d] float32), the largest over layers after appending them."""
    if calibration is None:
        return int(Cache(spec, heads, d, kv_heads=kv_heads).cost(tokens)["resident_bytes"])
    sizes = []
    for streams in calibration:
        cache = Cache(spec, heads, d, kv_heads=kv_heads)
        cache.append(*streams)
        sizes.append(int(cache.cost(tokens)["resident_bytes"]))
    return max(sizes)


def parse_budget(text, heads, d, tokens, kv_heads=None):
    """Bytes of one layer's cache: "P%" of the exact factor cache at `tokens`, or a byte count;
    ValueError (one line) otherwise."""
    try:
        if text.endswith("%"):
            fraction = float(text[:-1]) / 100
            if not 0 < fraction:
                raise ValueError
            return int(fraction * resident_bytes(REFERENCE, heads, d, tokens, kv_heads))
        value = int(text)
        if value < 1:
            raise ValueError
        return value
    except ValueError:
        raise ValueError(f"--budget: {text!r} is neither a positive percentage (25%) nor a byte count") from None


def fit(budget, heads, d, tokens, windows, kv_heads=None, calibration=None):
    """{family: Choice(spec, resident bytes, parameters)} of each approximate family's most accurate setting whose
    resident bytes at `tokens` are at most `budget`, windows no larger than the model's
    `windows` (w1, w2); a family with none that fits is left out."""
    chosen = {}
    for family, candidates in FAMILIES.items():
        best = None
        for parameters in candidates(*windows):
            spec = spec_of(family, parameters)
            size = resident_bytes(spec, heads, d, tokens, kv_heads, calibration)
            if size <= budget and (best is None or rank(parameters) > rank(best.parameters)):
                best = Choice(spec, size, parameters)
        if best is not None:
            chosen[family] = best
    return chosen
