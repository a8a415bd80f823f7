"""A small trained 2-simplicial byte-level language model: training (train), its traces
(traces), its loss under any trikv cache (evaluate) and the cache sweep (sweep). docs/model.md."""
