"""Every script in examples/ runs as a researcher would run it (a fresh interpreter, another
working directory) and says what it should: the figures exist, the Python prototype matches its
C++ counterpart, a cache of the model's own windows reproduces its training-path loss."""
import os
import re
import subprocess
import sys

import pytest

import trikv

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples")


def run(script, *args, cwd):
    # The trikv these tests import (the build tree's, an install's), whatever the working directory.
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(trikv.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_first_study_measures_three_caches_and_draws_figures(tmp_path):
    out = run("first_study.py", "--out", str(tmp_path / "first"), cwd=tmp_path)
    measured = re.findall(r"^(\S+) +(32|64) ", out, re.M)
    assert sorted({cache.split(":")[0] for cache, _ in measured}) == ["factor", "product", "window"], out
    assert len(measured) == 6, out
    figures = re.findall(r"^  (\S+\.png)$", out, re.M)
    assert figures and all(os.path.getsize(f) > 0 for f in figures), out


def test_a_python_cache_type_matches_its_cpp_counterpart_and_is_measured(tmp_path):
    out = run("python_cache_type.py", "--out", str(tmp_path / "python"), cwd=tmp_path)
    difference = float(re.search(r"largest difference (\S+)", out).group(1))
    assert difference < 1e-4, out
    rows = {m[0].split(":")[0]: m for m in re.findall(r"^(\S+) +\S+ +(\d+) +(\d+) +(\S+) +(\S+)$", out, re.M)}
    assert sorted(rows) == ["factor", "recent", "window"], out
    assert rows["recent"][3] == "self-reported" and rows["factor"][3] == "counted", out
    # The prototype's error and stored data are its C++ counterpart's: the same outputs, the same tokens.
    assert float(rows["recent"][4]) == pytest.approx(float(rows["window"][4]), rel=1e-2), out
    assert rows["recent"][2] == rows["window"][2], out


def test_the_model_under_two_caches(tmp_path):
    pytest.importorskip("torch")
    out = run("model_under_two_caches.py", "--sequences", "1", cwd=tmp_path)
    exact = float(re.search(r"training path: loss (\S+)", out).group(1))
    losses = dict(re.findall(r"^(\S+) +loss (\S+) nats/byte", out, re.M))
    own, half = "window:w1=8,w2=32", "window:w1=4,w2=16"  # the shipped model's windows (record.json)
    assert set(losses) == {own, half}, out
    assert float(losses[own]) == pytest.approx(exact, rel=1e-3), out  # float32 decode of the training path
    assert float(losses[half]) != pytest.approx(exact, rel=1e-3), out
