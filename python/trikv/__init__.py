"""trikv: tensor (three-way, 2-simplicial) attention and its KV caches, in process.

    import numpy as np, trikv
    cache = trikv.Cache("factor", heads=8, d=64)
    cache.append(k1, k2, v1, v2)          # [heads, d] or [count, heads, d], float32
    out = cache.attend(q)

trikv.caches() lists the cache types, trikv.attend() decodes whole sequences like `trikv attend`,
trikv.load_plugin() loads a C++ plugin's cache types,
trikv.run_study() runs a study, trikv.PyCache/trikv.register() add cache types written in
Python, and trikv.torch.SimplicialAttention is a PyTorch module. See docs/python.md.
"""
import importlib

from . import _core
from ._arguments import one_line_type_errors
from ._core import BUDGET_REFERENCE, Cache, accuracy_ladder, budget_bytes, caches, fit_budget, is_exact, parse_budget
from .pycache import Param, PyCache, register
from .studies import load_results, run_study, write_results

__all__ = ["BUDGET_REFERENCE", "Cache", "Param", "PyCache", "accuracy_ladder", "attend", "budget_bytes", "caches",
           "fit_budget", "is_exact", "load_plugin", "load_results", "parse_budget", "register", "run_study",
           "write_results"]

# A wrong argument type is one line, not pybind11's dump of every argument (trikv/_arguments.py).
# append and attend take any object and check it themselves; they stay unwrapped (no overhead).
attend = one_line_type_errors(_core.attend, "attend")
load_plugin = one_line_type_errors(_core.load_plugin, "load_plugin")
for _method in ("__init__", "cost", "reserve", "set_memory_limit"):
    _name = "Cache" if _method == "__init__" else f"Cache.{_method}"
    setattr(Cache, _method, one_line_type_errors(getattr(Cache, _method), _name, bound=True))
del _method, _name


def __getattr__(name):
    # trikv.torch imports PyTorch, which is slow and optional: only when asked for.
    if name == "torch":
        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'trikv' has no attribute '{name}'")
