"""Match3 (Sanford, Hsu & Telgarsky 2023), causal: tokens x_0 … x_{N−1} in Z_M, and the label
at position t is 1 when some pair of positions i, j ≤ t (i = j and i = t allowed) has
x_t + x_i + x_j ≡ 0 (mod M), else 0 (docs/model.md). One 2-simplicial head can score every
pair (i, j) against t at once; standard attention scores one position at a time.

Uniform tokens would make the labels depend on the position (early positions are almost
always 0, late ones 1), and many labels would be decided by a pair involving t itself or one
position twice (3x_t, 2x_t + x_i, x_t + 2x_i ≡ 0), which standard attention checks one
position at a time: a model could score well from those alone. So the sampler draws x_t only
among the values whose label no such pair decides (the label then hinges on two distinct
earlier positions i < j < t), and among those from the values that give label 1 with
probability 1/2, else from those that give 0 (uniformly within each set; when a set is empty,
from the other; when no value is left, from all of Z_M). The rule itself is unchanged:
`rule` recomputes every label from its definition. `balance` measures the labels' balance per
position and `python3 -m trikv.model.match3 [--length N --modulus M]` prints it.
"""
import argparse
import sys

import torch

BALANCE_SEQUENCES = 4096  # sequences `balance` draws


def pair_decided(seen, doubles, modulus):
    """[batch, M] bool: value v at the next position would have its label decided by a pair
    involving itself or one earlier token twice: 3v, 2v + a or v + 2a ≡ 0 for an earlier a.
    seen[b, a]: a occurred earlier; doubles[b, s]: 2a ≡ s for an earlier a."""
    v = torch.arange(modulus)
    return ((3 * v) % modulus == 0)[None] | seen[:, (-2 * v) % modulus] | doubles[:, (-v) % modulus]


def sample(batch, length, modulus, generator):
    """(tokens [batch, length] int64, labels [batch, length] int64) by the balanced sampler."""
    rows = torch.arange(batch)
    seen = torch.zeros(batch, modulus, dtype=torch.bool)
    doubles = torch.zeros(batch, modulus, dtype=torch.bool)
    sums = torch.zeros(batch, modulus, dtype=torch.bool)  # x_i + x_j over earlier i < j
    tokens, labels = [], []
    for _ in range(length):
        positive = sums[:, (-torch.arange(modulus)) % modulus]
        allowed = ~pair_decided(seen, doubles, modulus)
        allowed |= ~allowed.any(1, keepdim=True)  # nothing allowed: any value
        want = torch.rand(batch, generator=generator) < 0.5
        pool = allowed & torch.where(want[:, None], positive, ~positive)
        pool = torch.where(pool.any(1, keepdim=True), pool, allowed)  # an empty side: the other one
        x = torch.multinomial(pool.float(), 1, generator=generator)[:, 0]
        labels.append(positive[rows, x] | pair_decided(seen, doubles, modulus)[rows, x])
        earlier = seen.nonzero()  # the new pair sums x + a over every earlier a
        sums[earlier[:, 0], (earlier[:, 1] + x[earlier[:, 0]]) % modulus] = True
        seen[rows, x] = True
        doubles[rows, (2 * x) % modulus] = True
        tokens.append(x)
    return torch.stack(tokens, 1), torch.stack(labels, 1).long()


def rule(tokens, modulus):
    """The labels of one sequence by the definition's loops: a reference for tests."""
    return [int(any((x + a + b) % modulus == 0 for a in tokens[:t + 1] for b in tokens[:t + 1]))
            for t, x in enumerate(tokens)]


def balance(length, modulus, seed=0):
    """(fraction of labels 1 over all positions, per position; accuracy of the best guess from
    the position alone) over BALANCE_SEQUENCES sampled sequences."""
    _, labels = sample(BALANCE_SEQUENCES, length, modulus, torch.Generator().manual_seed(seed))
    per_position = labels.float().mean(0)
    return labels.float().mean().item(), per_position.tolist(), torch.maximum(per_position, 1 - per_position).mean().item()


def main(argv=None):
    from .zoo import MATCH3_LENGTH, MATCH3_MODULUS
    parser = argparse.ArgumentParser(description="the label balance of Match3's sampler")
    parser.add_argument("--length", type=int, default=MATCH3_LENGTH, help="N, positions per sequence")
    parser.add_argument("--modulus", type=int, default=MATCH3_MODULUS, help="M")
    args = parser.parse_args(argv)
    for name, value in (("--length", args.length), ("--modulus", args.modulus)):
        if value < 1:
            print(f"{name}: {value} is not a positive count", file=sys.stderr)
            return 2
    positive, per_position, position_only = balance(args.length, args.modulus)
    print(f"N = {args.length}, M = {args.modulus}: {positive:.4f} of labels are 1 "
          f"(per position {min(per_position):.3f}–{max(per_position):.3f}); "
          f"guessing from the position alone scores {position_only:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
