"""A cache type written in Python for the tests: keeps every token, attends every stored pair
exactly (reference.attend_stored), on grouped heads and in every variant."""
import numpy as np

import trikv
from reference import attend_stored


class KeepsEverything(trikv.PyCache):
    """Keeps every token; attends exactly by looping over pairs (a prototype)."""

    def __init__(self, heads, d, scale, kv_heads, variant):
        super().__init__(heads, d, scale, kv_heads, variant)
        self.rows = []  # per token: float32 [4 (k1, k2, v1, v2), kv_heads, d]

    def append(self, k1, k2, v1, v2):
        self.rows += [np.array(t) for t in np.stack([k1, k2, v1, v2], axis=1)]

    def attend(self, q):
        rows = (np.repeat(np.stack([r[s] for r in self.rows]), self.group, axis=1) for s in range(4))
        return attend_stored(q, *rows, self.scale, self.variant)

    def clear(self):
        self.rows = []

    @property
    def bytes(self):
        return sum(r.nbytes for r in self.rows)

    def cost(self, tokens):
        width = self.heads * self.d
        return dict(resident_bytes=16.0 * tokens * self.kv_heads * self.d,
                    transient_bytes=8.0 * tokens * tokens * self.heads, flops=4.0 * tokens * tokens * width,
                    bytes_moved=16.0 * tokens * self.kv_heads * self.d)
