"""The shipped language model evaluated under two caches: its held-out loss, with a 95%
interval, when the 2-simplicial layers decode through a cache of the model's own windows and
through one of half those windows.

    python3 examples/model_under_two_caches.py [--sequences 2]

The model (python/trikv/model, docs/model.md; `python3 -m trikv.model.zoo` lists the others) is
a small byte-level transformer whose 2-simplicial layers attend through any trikv cache spec.
Trained with windows w1 and w2 (record.json), it decodes through `window:w1=W1,w2=W2` exactly
as its training path computes; half windows hold fewer tokens: less memory, a different loss."""
import argparse

from trikv.model import evaluate, zoo
from trikv.model.checkpoint import load


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=2, help="held-out context windows to predict")
    sequences = parser.parse_args().sequences
    entry = zoo.lookup("kjv-window")
    model, _ = load(entry.directory)
    inputs, targets = entry.task.held_out(model.config, sequences)
    w1, w2 = model.config.w1, model.config.w2
    caches = [f"window:w1={w1},w2={w2}", f"window:w1={w1 // 2},w2={w2 // 2}"]
    result = evaluate.evaluate(model, entry.task, inputs, targets,
                               [(spec, evaluate.layer_specs(spec, model)) for spec in caches])
    exact = result["exact"]
    print(f"training path: loss {exact['value']:.4f} nats/byte [{exact['ci'][0]:.4f}, {exact['ci'][1]:.4f}]")
    for row in result["caches"]:
        print(f"{row['spec']:20} loss {row['value']:.4f} nats/byte [{row['ci'][0]:.4f}, {row['ci'][1]:.4f}], "
              f"{row['step_ms']:.2f} ms/step, {row['cache_bytes']} bytes in the 2-simplicial layers' caches")


if __name__ == "__main__":
    main()
