"""trikv: tensor (three-way, 2-simplicial) attention and its KV caches, in process.

    import numpy as np, trikv
    cache = trikv.Cache("factor", heads=8, d=64)
    cache.append(k1, k2, v1, v2)          # [heads, d] or [count, heads, d], float32
    out = cache.attend(q)

trikv.caches() lists the cache types, trikv.attend() decodes whole sequences like `trikv attend`,
trikv.run_study() runs a study, trikv.PyCache/trikv.register() add cache types written in
Python, and trikv.torch.SimplicialAttention is a PyTorch module. See docs/python.md.
"""
import importlib

from ._core import Cache, attend, caches, is_exact
from .pycache import Param, PyCache, register
from .studies import load_results, run_study

__all__ = ["Cache", "Param", "PyCache", "attend", "caches", "is_exact", "load_results", "register", "run_study"]


def __getattr__(name):
    # trikv.torch imports PyTorch, which is slow and optional: only when asked for.
    if name == "torch":
        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'trikv' has no attribute '{name}'")
