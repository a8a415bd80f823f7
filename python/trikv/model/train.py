"""Trains one of the zoo's models (zoo.py) into its checkpoint directory, or verifies a trained
checkpoint (docs/model.md):

    python3 -m trikv.model.train --model match3-simplicial [--out DIR] [--steps N] [--threads 1]
    python3 -m trikv.model.train --model match3-simplicial --verify [--out DIR]

--verify recomputes the held-out loss (and accuracy, for Match3) from the checkpoint and exits 1
unless they match record.json within Schedule.verify_tolerance; with --threads 1 a run is
bit-reproducible, and the held-out set is fixed, so --verify is deterministic.
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
from .checkpoint import CheckpointError, load, writable_directory  # noqa: E402
from .figures import draw_training  # noqa: E402
from .network import LanguageModel  # noqa: E402
from .tasks import Language, evaluate, loss  # noqa: E402
from .zoo import Schedule, lookup  # noqa: E402


def learning_rate(schedule, step):
    if step < schedule.warmup:
        return schedule.learning_rate * (step + 1) / schedule.warmup
    progress = (step - schedule.warmup) / max(1, schedule.steps - schedule.warmup)
    return schedule.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))


def held_out_metrics(model, task, held_out):
    """{'loss': mean loss, task.metric: mean of the task's metric} over the held-out set."""
    values, mean_loss = evaluate(model, task, *held_out)
    model.train()
    return {"loss": mean_loss, task.metric: values.mean().item()}


def train(entry, schedule, out, threads):
    config, task = entry.config, entry.task
    torch.set_num_threads(threads)
    torch.manual_seed(schedule.seed)
    held_out = task.held_out(config, schedule.held_out_chunks)
    model = LanguageModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.learning_rate,
                                  weight_decay=schedule.weight_decay, betas=(0.9, 0.95))
    sampler = torch.Generator().manual_seed(schedule.seed)
    wall, cpu = time.time(), time.process_time()
    metric_columns = ["held_out_loss"] + ([f"held_out_{task.metric}"] if task.metric != "loss" else [])
    rows = [",".join(["step", "train_loss", *metric_columns, "wall_seconds", "cpu_seconds"])]
    train_loss = ""  # none before the first step
    for step in range(schedule.steps + 1):
        if step % schedule.evaluate_every == 0 or step == schedule.steps:
            measured = held_out_metrics(model, task, held_out)
            values = [measured["loss"]] + ([measured[task.metric]] if task.metric != "loss" else [])
            rows.append(",".join([str(step), train_loss, *(f"{v:.5f}" for v in values),
                                  f"{time.time() - wall:.1f}", f"{time.process_time() - cpu:.1f}"]))
            print(rows[-1], flush=True)
        if step == schedule.steps:
            break
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(schedule, step)
        inputs, targets = task.batch(config, schedule.batch, sampler)
        batch_loss = loss(model(inputs), targets)
        optimizer.zero_grad()
        batch_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        train_loss = f"{batch_loss.item():.5f}"
    record = {
        "model": entry.name,
        "task": task.name,
        "config": json.loads(config.to_json()),
        "schedule": dataclasses.asdict(schedule),
        "held_out_loss": measured["loss"],
        "held_out_sequences": schedule.held_out_chunks,
        "wall_seconds": round(time.time() - wall, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "threads": threads,
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
    }
    if task.metric != "loss":
        record[f"held_out_{task.metric}"] = measured[task.metric]
    if isinstance(task, Language):
        text = task.text()
        record["corpus"] = {"packages": list(corpus.PACKAGES), "verses": corpus.WHOLE_BIBLE,
                            "line_width": corpus.LINE_WIDTH, "bytes": len(text), "sha256": corpus.digest(text),
                            "held_out_fraction": corpus.HELD_OUT_FRACTION}
    else:
        record["modulus"] = task.modulus
    torch.save(model.state_dict(), os.path.join(out, "checkpoint.pt"))
    with open(os.path.join(out, "training.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    draw_training(os.path.join(out, "training"), f"training {entry.name}", task.metric, entry.about)
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    print(f"{entry.name}: held-out " + ", ".join(f"{k} {v:.4f}" for k, v in measured.items())
          + f" after {schedule.steps} steps, {record['wall_seconds']} s wall, {record['cpu_seconds']} s CPU", flush=True)


def verify(entry, directory, threads):
    """Recomputes the held-out metrics of a checkpoint; 1 when one is off by more than the tolerance."""
    torch.set_num_threads(threads)
    model, record = load(directory)
    schedule = Schedule(**record["schedule"])
    measured = held_out_metrics(model.eval(), entry.task, entry.task.held_out(model.config, schedule.held_out_chunks))
    ok = True
    for name, value in measured.items():
        recorded = record[f"held_out_{name}"]
        same = abs(value - recorded) <= schedule.verify_tolerance * abs(recorded)
        ok &= same
        print(f"held-out {name} {value:.5f}, recorded {recorded:.5f}: {'reproduced' if same else 'NOT reproduced'}")
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="kjv-window", help="a zoo model (python3 -m trikv.model.zoo)")
    parser.add_argument("--out", help="where checkpoint.pt, record.json, training.csv go (default: the zoo's)")
    parser.add_argument("--verify", action="store_true", help="check --out's checkpoint instead of training")
    parser.add_argument("--steps", type=int, help="training steps (default: the model's schedule)")
    parser.add_argument("--threads", type=int, default=1, help="1: runs are bit-reproducible")
    args = parser.parse_args(argv)
    try:
        entry = lookup(args.model)
        if args.steps is not None and args.steps < 1:
            raise ValueError(f"--steps: {args.steps} is not a positive count")
        if args.threads < 1:
            raise ValueError(f"--threads: {args.threads} is not a positive count")
        out = args.out or entry.directory
        if args.verify:
            return verify(entry, out, args.threads)
        writable_directory(out, "--out")
    except (ValueError, CheckpointError) as error:
        print(error, file=sys.stderr)
        return 2
    schedule = dataclasses.replace(entry.schedule, **({"steps": args.steps} if args.steps else {}))
    train(entry, schedule, out, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
