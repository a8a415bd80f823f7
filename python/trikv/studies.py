"""Studies from Python: a TOML file or a dict in, the rows of results.csv out."""
import copy
import csv
import json
import os
import tomllib

from . import _core
from .pycache import python_cache_types


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ValueError(f"study: value {value!r} of type {type(value).__name__} has no TOML form")


def to_toml(study, prefix=""):
    """The dict `study` as TOML text: keys first, then tables and arrays of tables."""
    def is_table_list(v):
        return isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
    lines = [f"{k} = {_toml_value(v)}" for k, v in study.items()
             if not isinstance(v, dict) and not is_table_list(v)]
    for key, value in study.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += ["", f"[{path}]", to_toml(value, path + ".")]
        elif is_table_list(value):
            for table in value:
                lines += ["", f"[[{path}]]", to_toml(table, path + ".")]
    return "\n".join(lines)


def _typed(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _read_rows(directory):
    with open(os.path.join(directory, "results.csv"), newline="") as f:
        rows = [{k: _typed(v) for k, v in row.items()} for row in csv.DictReader(f)]
    registered = {t["name"] for t in _core.caches()}
    for row in rows:
        kind = row.get("cache_type")
        # results.csv records it; files written before the column existed get it from the registry.
        row["bytes_source"] = row.get("bytes_source") or ("self-reported" if kind in python_cache_types
                                                          else "counted" if kind in registered else "unknown")
    return rows


def run_study(study, out=None, **overrides):
    """Runs a study and returns the rows of its results.csv as a list of dicts.

    `study` is a TOML file's path or a dict of the same keys (docs/studies.md); keyword
    overrides replace top-level keys (run_study("studies/default.toml", n=[64], caches=[...]));
    `out` is the output directory (default: the study's own). Rows gain a bytes_source column:
    'self-reported' for cache types written in Python, 'counted' for C++ ones."""
    if isinstance(study, dict):
        spec, source = copy.deepcopy(study), "study dict"
    else:
        source = os.fspath(study)
        with open(source, "rb") as f:
            spec = tomllib.load(f)
        # As the CLI does: the study's data is named relative to the study file.
        data = spec.get("data", {})
        if isinstance(data.get("dir"), str) and not os.path.isabs(data["dir"]):
            data["dir"] = os.path.join(os.path.dirname(os.path.abspath(source)), data["dir"])
    spec.update(overrides)
    directory = _core._run_study_toml(to_toml(spec), source, "" if out is None else os.fspath(out))
    return _read_rows(directory)


def load_results(directory):
    """The rows of directory/results.csv: a pandas DataFrame when pandas is installed, else a
    list of dicts (bytes_source as in run_study)."""
    rows = _read_rows(directory)
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)
