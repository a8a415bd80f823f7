"""The model zoo: every model trikv trains, its configuration, training schedule, task and
checkpoint directory (docs/model.md), and the listing:

    python3 -m trikv.model.zoo [--json]

lists name, task, kind (simplicial when it has 2-simplicial layers, else standard), heads,
kv_heads, d, context, window ([w1, w2] or null: the full square), parameters and
checkpoint_bytes (0 while a model is not trained); --json adds each model's training and
verifying commands: `python3 -m trikv.model.train --model NAME [--verify]`.
"""
import argparse
import dataclasses
import json
import os
import sys

from .network import SIMPLICIAL, STANDARD, Config
from .tasks import Language, Match3

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKPOINTS = os.path.join(HERE, "checkpoints")
SHIPPED = os.path.join(HERE, "shipped")  # the first model, kept where earlier docs point

MATCH3_LENGTH = 24   # N: positions per sequence (labels balanced: python3 -m trikv.model.match3)
MATCH3_MODULUS = 32  # M


@dataclasses.dataclass
class Schedule:
    seed: int = 17
    steps: int = 600
    batch: int = 16
    learning_rate: float = 2e-3
    warmup: int = 50
    weight_decay: float = 0.1
    evaluate_every: int = 100
    held_out_chunks: int = 64  # held-out sequences the recorded metric is over
    verify_tolerance: float = 0.01


@dataclasses.dataclass
class Model:
    name: str
    task: object
    config: Config
    schedule: Schedule
    directory: str
    about: str

    @property
    def kind(self):
        return SIMPLICIAL if SIMPLICIAL in self.config.layers else STANDARD

    @property
    def checkpoint(self):
        return os.path.join(self.directory, "checkpoint.pt")


def _match3_config(layers, mlp_ratio):
    return Config(d_model=64, heads=2, layers=layers, context=MATCH3_LENGTH, w1=None, w2=None,
                  mlp_ratio=mlp_ratio, vocabulary=MATCH3_MODULUS, outputs=2)


_MATCH3_SCHEDULE = Schedule(steps=3000, batch=64, learning_rate=2e-3, warmup=100, weight_decay=0.1,
                            evaluate_every=100, held_out_chunks=2048)

MODELS = {m.name: m for m in [
    Model("kjv-window", Language(), Config(), Schedule(), SHIPPED,
          "byte LM, windowed 2-simplicial layers (w1 = 8, w2 = 32) interleaved with standard ones"),
    # Full-square training costs O(context³) per head: two layers, batches of 4, to fit the CPU budget.
    Model("kjv-square", Language(), Config(d_model=64, heads=2, layers=(STANDARD, SIMPLICIAL), context=128,
                                           w1=None, w2=None),
          Schedule(steps=400, batch=4, learning_rate=3e-3, held_out_chunks=32), os.path.join(CHECKPOINTS, "kjv-square"),
          "byte LM, a standard then a full-square 2-simplicial layer (no windows)"),
    # The reference's configuration scaled down: two query heads over one kv head, d = 64,
    # w2 = 8 w1, standard layers between, a 1,024-token context (training is O(n·w1·w2)).
    Model("kjv-grouped", Language(), Config(d_model=128, heads=2, kv_heads=1, context=1024, w1=16, w2=128),
          Schedule(steps=200, batch=2, learning_rate=3e-3, warmup=20, evaluate_every=50, held_out_chunks=8),
          os.path.join(CHECKPOINTS, "kjv-grouped"),
          "byte LM, windowed grouped-head 2-simplicial layers (2 query heads per kv head, d = 64, w1 = 16, w2 = 128) interleaved with standard ones"),
    Model("match3-simplicial", Match3(MATCH3_MODULUS), _match3_config((SIMPLICIAL, STANDARD), 4), _MATCH3_SCHEDULE,
          os.path.join(CHECKPOINTS, "match3-simplicial"), "Match3, a full-square 2-simplicial layer then a standard one"),
    # Two standard layers with a 5x MLP: about the 2-simplicial model's parameters (its layer
    # projects five streams where a standard one projects three).
    Model("match3-standard", Match3(MATCH3_MODULUS), _match3_config((STANDARD, STANDARD), 5), _MATCH3_SCHEDULE,
          os.path.join(CHECKPOINTS, "match3-standard"), "Match3, two standard layers"),
]}


def parameters(config):
    from .network import LanguageModel
    return sum(p.numel() for p in LanguageModel(config).parameters())


def listing(model):
    config = model.config
    return {"name": model.name, "task": model.task.name, "kind": model.kind, "heads": config.heads,
            "kv_heads": config.groups, "d": config.d, "context": config.context,
            "window": [config.w1, config.w2] if config.windowed else None,
            "parameters": parameters(config),
            "checkpoint_bytes": os.path.getsize(model.checkpoint) if os.path.exists(model.checkpoint) else 0,
            "train": f"python3 -m trikv.model.train --model {model.name}",
            "verify": f"python3 -m trikv.model.train --model {model.name} --verify"}


def lookup(name):
    """The zoo's model `name`; ValueError (one line) naming the known ones otherwise."""
    if name not in MODELS:
        raise ValueError(f"--model: {name!r} is not one of {', '.join(MODELS)}")
    return MODELS[name]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    args = parser.parse_args(argv)
    rows = [listing(m) for m in MODELS.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = [c for c in rows[0] if c not in ("train", "verify")]  # the same command for every model
    text = [[str(r[c]) if r[c] is not None else "-" for c in columns] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text)) for i, c in enumerate(columns)]
    for line in [columns] + text:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
