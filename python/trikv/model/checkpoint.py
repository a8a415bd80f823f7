"""Loads a model directory (checkpoint.pt beside record.json) and checks output directories,
so that every model command turns bad files into one line and exit status 2 (docs/model.md).

Checkpoints are read with torch.load(..., weights_only=True) only: a file that is not plain
tensors (a pickled object, say) is refused, never executed.
"""
import json
import os
import tempfile

import torch

from .network import Config, LanguageModel

RECORD, CHECKPOINT = "record.json", "checkpoint.pt"


class CheckpointError(ValueError):
    """A model directory that cannot be loaded; the message is one line naming the file."""


def _one_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def read_record(directory):
    path = os.path.join(directory, RECORD)
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: {_one_line(error)}") from None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise CheckpointError(f"{path}: no 'config' object")
    try:
        config = Config.from_dict(record["config"])
        if config.d_model % config.heads or config.groups < 1 or config.heads % config.groups or config.context < 1:
            raise ValueError(f"heads {config.heads}, kv_heads {config.kv_heads}, d_model {config.d_model}, "
                             f"context {config.context} do not fit together")
    except (TypeError, KeyError, ValueError, ZeroDivisionError) as error:
        raise CheckpointError(f"{path}: config: {_one_line(error)}") from None
    schedule = record.get("schedule")
    if not isinstance(schedule, dict) or not isinstance(schedule.get("held_out_chunks"), int) \
            or schedule["held_out_chunks"] < 1:
        raise CheckpointError(f"{path}: no 'schedule' with a positive held_out_chunks")
    return config, record


def load(directory):
    """(model in eval mode, record) from directory's checkpoint.pt and record.json;
    CheckpointError (one line) when either is missing, damaged or does not fit the other."""
    config, record = read_record(directory)
    path = os.path.join(directory, CHECKPOINT)
    try:
        weights = torch.load(path, weights_only=True)
    except Exception as error:  # torch raises many types for damaged files; all are one verdict
        raise CheckpointError(f"{path}: not a readable weights-only checkpoint ({_one_line(error)})") from None
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(f"{path}: not a dictionary of tensors (plain weights)")
    try:
        model = LanguageModel(config)
        model.load_state_dict(weights)
    except (RuntimeError, ValueError) as error:
        raise CheckpointError(f"{path}: does not fit {RECORD}'s config ({_one_line(error)})") from None
    return model.eval(), record


def writable_directory(path, option):
    """Creates path if needed; ValueError (one line, naming option) unless files can be written there."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(f"{option}: {path} is not a writable directory ({error.strerror})") from None
