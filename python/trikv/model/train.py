"""Trains the byte-level 2-simplicial language model on the KJV corpus, or verifies the shipped
checkpoint (docs/model.md).

    python3 -m trikv.model.train --out python/trikv/model/shipped     # train, ~20 min on 2 cores
    python3 -m trikv.model.train --verify                             # the shipped one, ~1 min
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # shared cores: idle OpenMP threads must not spin

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from . import corpus  # noqa: E402
from .figures import draw_training  # noqa: E402
from .network import Config, LanguageModel, next_byte_loss  # noqa: E402
from .shipped import SHIPPED, load  # noqa: E402


@dataclasses.dataclass
class Schedule:
    seed: int = 17
    steps: int = 600
    batch: int = 16
    learning_rate: float = 2e-3
    warmup: int = 50
    weight_decay: float = 0.1
    evaluate_every: int = 100
    held_out_chunks: int = 64  # the held-out loss is over this many consecutive chunks
    verify_tolerance: float = 0.01


def as_tensor(data):
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).long()


def held_out_chunks(held_out, context, count):
    """The first `count` consecutive [context + 1]-byte chunks of the held-out text."""
    data = as_tensor(held_out[:count * context + 1])
    return torch.stack([data[c * context:c * context + context + 1] for c in range(count)])


def held_out_loss(model, chunks):
    model.eval()
    with torch.no_grad():
        loss = sum(next_byte_loss(model, chunks[c:c + 16]).item() * len(chunks[c:c + 16])
                   for c in range(0, len(chunks), 16)) / len(chunks)
    model.train()
    return loss


def learning_rate(schedule, step):
    if step < schedule.warmup:
        return schedule.learning_rate * (step + 1) / schedule.warmup
    progress = (step - schedule.warmup) / max(1, schedule.steps - schedule.warmup)
    return schedule.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))


def train(config, schedule, out, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(schedule.seed)
    text = corpus.text()
    train_text, held_out = corpus.split(text)
    data = as_tensor(train_text)
    evaluation = held_out_chunks(held_out, config.context, schedule.held_out_chunks)
    model = LanguageModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.learning_rate,
                                  weight_decay=schedule.weight_decay, betas=(0.9, 0.95))
    sampler = torch.Generator().manual_seed(schedule.seed)
    os.makedirs(out, exist_ok=True)
    wall, cpu = time.time(), time.process_time()
    rows = ["step,train_loss,held_out_loss,wall_seconds,cpu_seconds"]
    train_loss = ""  # none before the first step
    for step in range(schedule.steps + 1):
        if step % schedule.evaluate_every == 0 or step == schedule.steps:
            loss_h = held_out_loss(model, evaluation)
            rows.append(f"{step},{train_loss},{loss_h:.5f},"
                        f"{time.time() - wall:.1f},{time.process_time() - cpu:.1f}")
            print(rows[-1], flush=True)
        if step == schedule.steps:
            break
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(schedule, step)
        starts = torch.randint(0, len(data) - config.context - 1, (schedule.batch,), generator=sampler)
        chunks = torch.stack([data[s:s + config.context + 1] for s in starts])
        loss = next_byte_loss(model, chunks)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        train_loss = f"{loss.item():.5f}"
    record = {
        "config": json.loads(config.to_json()),
        "schedule": dataclasses.asdict(schedule),
        "held_out_loss": loss_h,
        "held_out_bytes": schedule.held_out_chunks * config.context,
        "wall_seconds": round(time.time() - wall, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "threads": threads,
        "parameters": sum(p.numel() for p in model.parameters()),
        "corpus": {"packages": list(corpus.PACKAGES), "verses": corpus.WHOLE_BIBLE,
                   "line_width": corpus.LINE_WIDTH, "bytes": len(text), "sha256": corpus.digest(text),
                   "held_out_fraction": corpus.HELD_OUT_FRACTION},
        "torch": torch.__version__,
    }
    torch.save(model.state_dict(), os.path.join(out, "checkpoint.pt"))
    with open(os.path.join(out, "training.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    draw_training(os.path.join(out, "training"))
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    print(f"held-out loss {loss_h:.4f} nats/byte after {schedule.steps} steps, "
          f"{record['wall_seconds']} s wall, {record['cpu_seconds']} s CPU", flush=True)


def verify(directory, threads):
    """Recomputes the held-out loss of a checkpoint; exit 1 when it is off by more than 1%."""
    torch.set_num_threads(threads)
    model, record = load(directory)
    schedule = Schedule(**record["schedule"])
    _, held_out = corpus.split(corpus.text())
    loss = held_out_loss(model, held_out_chunks(held_out, model.config.context, schedule.held_out_chunks))
    recorded = record["held_out_loss"]
    ok = abs(loss - recorded) <= schedule.verify_tolerance * recorded
    print(f"held-out loss {loss:.5f}, recorded {recorded:.5f}: {'reproduced' if ok else 'NOT reproduced'}")
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=SHIPPED, help="where checkpoint.pt, record.json, training.csv go")
    parser.add_argument("--verify", action="store_true", help="check --out's checkpoint instead of training")
    parser.add_argument("--steps", type=int, default=Schedule.steps)
    parser.add_argument("--threads", type=int, default=1, help="1: runs are bit-reproducible")
    args = parser.parse_args(argv)
    if args.steps < 1:
        print(f"--steps: {args.steps} is not a positive count", file=sys.stderr)
        return 2
    if args.verify:
        return verify(args.out, args.threads)
    train(Config(), Schedule(steps=args.steps), args.out, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
