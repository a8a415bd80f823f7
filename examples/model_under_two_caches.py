"""The shipped language model evaluated under two caches: its held-out loss when the
2-simplicial layers decode through a cache of the model's own windows and through one of half
those windows.

    python3 examples/model_under_two_caches.py [--tokens 48]

The model (python/trikv/model, docs/model.md) is a small byte-level transformer whose
2-simplicial layers attend through any trikv cache spec. Trained with windows w1 and w2
(record.json), it decodes through `window:w1=W1,w2=W2` exactly as its training path computes;
half windows hold fewer tokens: less memory, a different loss."""
import argparse
import math

from trikv.model import corpus, evaluate
from trikv.model.shipped import load
from trikv.model.train import held_out_chunks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=48, help="held-out bytes to predict (at most the context)")
    tokens = parser.parse_args().tokens
    model, _ = load()
    if not 1 <= tokens <= model.config.context:
        raise SystemExit(f"--tokens: {tokens} is out of range [1, {model.config.context}]")
    _, held_out = corpus.split(corpus.text())
    chunks = held_out_chunks(held_out, tokens, 1)  # one chunk: `tokens` bytes to predict
    w1, w2 = model.config.w1, model.config.w2
    caches = [f"window:w1={w1},w2={w2}", f"window:w1={w1 // 2},w2={w2 // 2}"]
    exact = evaluate.exact_loss(model, chunks)
    print(f"training path: loss {exact:.4f} nats/byte (perplexity {math.exp(exact):.3f})")
    for spec in caches:
        r = evaluate.cache_loss(model, chunks, spec)
        print(f"{spec:20} loss {r['loss']:.4f} nats/byte, {r['step_ms']:.2f} ms/step, "
              f"{r['cache_bytes']} bytes in the 2-simplicial layers' caches")


if __name__ == "__main__":
    main()
