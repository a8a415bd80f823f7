"""What the zoo's models are trained and judged on (docs/model.md): each task gives training
batches, a fixed held-out set and one metric per held-out sequence, as (inputs, targets)
[sequences, context] int64 pairs a model maps to logits [sequences, context, classes].

    kjv      next byte of the King James Bible (corpus.py); metric: loss, nats per byte (lower is better)
    match3   Match3 (match3.py); metric: accuracy over positions (higher is better)
"""
import torch
from torch.nn import functional as F

from . import corpus, match3

HELD_OUT_SEED = 1_000_003  # Match3's held-out sequences: a stream the training seed never draws


def as_tensor(data):
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).long()


class Language:
    name, metric, higher_is_better = "kjv", "loss", False

    def __init__(self):
        self._text, self._train_part = None, None

    def text(self):
        if self._text is None:
            self._text = corpus.text()
        return self._text

    def batch(self, config, size, generator):
        """size random windows of the training part."""
        data = self._train()
        starts = torch.randint(0, len(data) - config.context - 1, (size,), generator=generator)
        chunks = torch.stack([data[s:s + config.context + 1] for s in starts])
        return chunks[:, :-1], chunks[:, 1:]

    def _train(self):
        if self._train_part is None:
            self._train_part = as_tensor(corpus.split(self.text())[0])
        return self._train_part

    def most_held_out(self, config):
        return (len(corpus.split(self.text())[1]) - 1) // config.context

    def held_out(self, config, count):
        """The first count consecutive context windows of the held-out text (each predicts its
        own bytes only); ValueError (one line) unless they fit."""
        most = self.most_held_out(config)
        if not 1 <= count <= most:
            raise ValueError(f"--sequences: {count} is out of range [1, {most}]")
        data = as_tensor(corpus.split(self.text())[1][:count * config.context + 1])
        chunks = torch.stack([data[c * config.context:c * config.context + config.context + 1] for c in range(count)])
        return chunks[:, :-1], chunks[:, 1:]

    @staticmethod
    def per_sequence(logits, targets):
        """Mean cross-entropy of each sequence [sequences]."""
        return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").mean(1)


class Match3:
    name, metric, higher_is_better = "match3", "accuracy", True

    def __init__(self, modulus):
        self.modulus = modulus

    def batch(self, config, size, generator):
        return match3.sample(size, config.context, self.modulus, generator)

    @staticmethod
    def most_held_out(config):
        return 1 << 16

    def held_out(self, config, count):
        if not 1 <= count <= self.most_held_out(config):
            raise ValueError(f"--sequences: {count} is out of range [1, {self.most_held_out(config)}]")
        return match3.sample(count, config.context, self.modulus, torch.Generator().manual_seed(HELD_OUT_SEED))

    @staticmethod
    def per_sequence(logits, targets):
        """Fraction of each sequence's positions classified right [sequences]."""
        return (logits.argmax(-1) == targets).double().mean(1)


def loss(logits, targets):
    """Mean cross-entropy over every position: what training minimises for both tasks."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def evaluate(model, task, inputs, targets, batch=16):
    """(task metric per held-out sequence [sequences] float64, mean loss) by the training path."""
    model.eval()
    values, losses = [], []
    with torch.no_grad():
        for c in range(0, len(inputs), batch):
            logits = model(inputs[c:c + batch])
            values.append(task.per_sequence(logits, targets[c:c + batch]))
            losses.append(loss(logits, targets[c:c + batch]).item() * len(logits))
    return torch.cat(values).double(), sum(losses) / len(inputs)
