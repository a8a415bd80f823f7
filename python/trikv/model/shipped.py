"""The checkpoint the repo ships (python/trikv/model/shipped/) and how to load one."""
import json
import os

import torch

from .network import Config, LanguageModel

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shipped")


def load(directory=SHIPPED):
    """(model in eval mode, record) from directory's checkpoint.pt and record.json."""
    with open(os.path.join(directory, "record.json")) as f:
        record = json.load(f)
    model = LanguageModel(Config.from_dict(record["config"]))
    model.load_state_dict(torch.load(os.path.join(directory, "checkpoint.pt")))
    return model.eval(), record
