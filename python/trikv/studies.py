"""Studies from Python: a TOML file or a dict in, the rows of results.csv out."""
import copy
import csv
import io
import json
import os
import stat
import tomllib

from . import _core
from .pycache import python_cache_types


def _read_regular_file(path):
    """The bytes of a regular file: a FIFO would block forever, /dev/zero never end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO would wait for a writer
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{path!r}: is not a regular file")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read()
    finally:
        os.close(fd)


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


# Columns other writers add to rows trikv.load_results reads: name -> 'int' or 'float'. Every
# other column outside results.csv's schema is text. The model evaluation and sweep
# (trikv/model/evaluate.py COLUMNS) add their metric and its intervals.
EXTRA_COLUMNS = {"value": "float", "ci_low": "float", "ci_high": "float", "difference": "float",
                 "difference_ci_low": "float", "difference_ci_high": "float", "sequences": "int"}

_CONVERT = {"int": int, "float": float}


def _column_types():
    return {**EXTRA_COLUMNS, **_core._result_schema()}


def _typed_row(row, types):
    """Converts only the numeric columns of one schema, shared with the C++ results writer: a
    text column (a key such as '0286153784e63752') keeps its text."""
    typed = {}
    for key, text in row.items():
        convert = _CONVERT.get(types.get(key))
        typed[key] = convert(text) if convert and text != "" else text
    return typed


def _read_rows(path):
    """Rows of a results CSV: `path` is a study directory (its results.csv) or the file itself
    (`trikv bench --csv`, a shard's file, a model sweep's)."""
    csv_path = os.path.join(path, "results.csv") if os.path.isdir(path) else path
    types = _column_types()
    text = _read_regular_file(csv_path).decode("utf-8")  # a FIFO in its place must not hang
    rows = [_typed_row(row, types) for row in csv.DictReader(io.StringIO(text, newline=""))]
    registered = {t["name"] for t in _core.caches()}
    for row in rows:
        kind = row.get("cache_type")
        # results.csv records it; files written before the column existed get it from the registry.
        row["bytes_source"] = row.get("bytes_source") or ("self-reported" if kind in python_cache_types
                                                          else "counted" if kind in registered else "unknown")
        row["system"] = row.get("system") or "trikv"  # as the C++ reader: tables from before the column
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
        spec = tomllib.loads(_read_regular_file(source).decode())
        # As the CLI does: the study's data is named relative to the study file.
        data = spec.get("data", {})
        if isinstance(data.get("dir"), str) and not os.path.isabs(data["dir"]):
            data["dir"] = os.path.join(os.path.dirname(os.path.abspath(source)), data["dir"])
    spec.update(overrides)
    directory = _core._run_study_toml(to_toml(spec), source, "" if out is None else os.fspath(out))
    return _read_rows(directory)


def load_results(path):
    """The rows of a results table: `path` is a study directory (its results.csv, unsharded or
    merged) or a CSV with results.csv's columns (`trikv bench --csv`, a model sweep). Only the
    schema's numeric columns are converted. A pandas DataFrame when pandas is installed, else a
    list of dicts (bytes_source as in run_study)."""
    rows = _read_rows(os.fspath(path))
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def write_results(path, rows):
    """Writes `rows` (dicts) as a table with results.csv's columns, the C++ writer's defaults in
    every column a row leaves out (system: 'trikv'), so that trikv.load_results and `trikv
    figures` read it: how the peer benchmarks (studies/peers/) record PyTorch and NumPy beside
    trikv. A column outside the schema is refused; `key` must be 16 hex digits, as the C++
    reader checks. Written to a temporary file and renamed: never torn."""
    schema = list(_core._result_schema())
    defaults = dict(zip(schema, next(csv.reader([_core._default_result_line()]))))
    with io.StringIO(newline="") as text:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(schema)
        for row in rows:
            unknown = sorted(set(row) - set(schema))
            if unknown:
                raise ValueError(f"write_results: {', '.join(unknown)} is not a results.csv column")
            writer.writerow([_csv_text(row[c]) if c in row else defaults[c] for c in schema])
        body = text.getvalue()
    temporary = f"{os.fspath(path)}.tmp{os.getpid()}"
    with open(temporary, "w", newline="") as f:
        f.write(body)
    os.replace(temporary, path)


def _csv_text(value):
    """A field as the C++ writer spells it: booleans 1/0, floats in their shortest round-trip form."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(float(value)) if isinstance(value, float) else str(value)
