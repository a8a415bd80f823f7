"""Cache types written in Python, measured by the same drivers as the C++ ones."""
import abc
import inspect
import math
from dataclasses import dataclass, field

from . import _core

# Names registered from Python in this process: their bytes are the class's own report.
python_cache_types = set()


class PyCache(abc.ABC):
    """Base class of a cache type written in Python; register a subclass with trikv.register.

    trikv builds it as cls(heads, d, scale, kv_heads=..., variant=..., **params) and then calls:
      append(k1, k2, v1, v2)  each a read-only float32 [count, kv_heads, d] view of trikv's
                              buffer, valid during the call only: copy what you keep (the
                              shape's k2/v2 bias is already added);
      attend(q)               q [count, heads, d] -> [count, heads, d] (anything NumPy reads);
                              query head h reads kv head h // (heads // kv_heads), and scores
                              with `variant` (one of those given to register);
      clear()                 drop every token;
      reserve(tokens)         optional: allocate up front (the default does nothing);
      bytes                   property: the bytes you hold now (reported as self-reported);
      logical_bytes           optional property: of those, the bytes holding data (default: all
                              of them), for a class that allocates ahead, as chunked C++ stores do;
      cost(tokens)            dict of resident_bytes, transient_bytes, flops, bytes_moved of one
                              attend after `tokens` tokens (studies check memory limits with it).
    An __init__ without kv_heads and variant is built for one kv head per query head and the
    trilinear score only.
    """

    def __init__(self, heads, d, scale, kv_heads=None, variant="trilinear"):
        self.heads, self.d, self.scale = heads, d, scale
        self.kv_heads, self.variant = kv_heads or heads, variant
        self.group = self.heads // self.kv_heads  # query heads per kv head

    @abc.abstractmethod
    def append(self, k1, k2, v1, v2):
        """Stores count tokens ([count, heads, d] each)."""

    @abc.abstractmethod
    def attend(self, q):
        """Returns the attention of each query, [count, heads, d]."""

    @abc.abstractmethod
    def clear(self):
        """Drops every token."""

    @property
    @abc.abstractmethod
    def bytes(self):
        """The bytes the cache holds now, by its own count."""

    @abc.abstractmethod
    def cost(self, tokens):
        """The cost model of one attend after `tokens` tokens, a dict."""

    def reserve(self, tokens):
        """Pre-allocation is only an optimisation: by default there is none."""


@dataclass
class Param:
    """A declared parameter of a Python cache type: a number in [min, max] (an integer when
    the default is an int) or, with choices, one of those strings."""
    default: object
    description: str = ""
    min: float = -math.inf
    max: float = math.inf
    choices: list = field(default_factory=list)


def _declared(name, value):
    param = value if isinstance(value, Param) else Param(value)
    default = param.default
    if param.choices:
        return dict(name=name, default=str(default), description=param.description,
                    choices=[str(c) for c in param.choices], min=0.0, max=0.0, integer=False)
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise ValueError(f"params: '{name}' = {default!r} is neither a number nor one of declared choices")
    return dict(name=name, default=repr(default), description=param.description, choices=[],
                min=float(param.min), max=float(param.max), integer=isinstance(default, int))


def _takes_shape(cls):
    """Whether cls(heads, d, scale, ...) accepts the kv_heads and variant keywords."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    names = {p.name for p in parameters}
    return {"kv_heads", "variant"} <= names or any(p.kind == p.VAR_KEYWORD for p in parameters)


def register(name, cls, params=None, description=None, exact=False, variants=("trilinear",)):
    """Registers the PyCache subclass `cls` as cache type `name`, so that trikv.Cache,
    trikv.attend and trikv.run_study build it from specs like 'name:key=value'.

    params maps each parameter to its default (int or float) or to a trikv.Param; the values
    of a spec reach cls(heads, d, scale, kv_heads=..., variant=..., **params) typed like the
    defaults. `variants` lists the score variants the class computes ('trilinear', 'rank1',
    'strassen'); any other is refused when a cache is built, as for C++ types. Registered types
    live until the process ends; a name can be registered once."""
    if not (isinstance(cls, type) and issubclass(cls, PyCache)):
        raise ValueError(f"cls: {cls!r} is not a subclass of trikv.PyCache")
    if isinstance(variants, str) or not variants:
        raise ValueError(f"variants: {variants!r}: expected a non-empty list such as ['trilinear', 'rank1']")
    variants = [str(v) for v in variants]
    shaped = _takes_shape(cls)
    if not shaped and variants != ["trilinear"]:
        raise ValueError(f"variants: {cls.__name__}.__init__ takes no kv_heads and variant, so it cannot compute "
                         f"{variants}; accept them as PyCache.__init__ does")
    declared = [_declared(key, value) for key, value in (params or {}).items()]
    summary = description or (cls.__doc__ or cls.__name__).strip().splitlines()[0]
    _core._register_cache(name, cls, f"{summary} (Python; bytes self-reported)", bool(exact), declared, variants,
                          shaped)
    python_cache_types.add(name)
