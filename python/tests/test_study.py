import csv
import math

import numpy as np
import pytest

import trikv
from sketches import KeepsEverything


class PairSketch(KeepsEverything):
    """Keeps every token; attends exactly by looping over pairs (a prototype). Its __init__ has
    the interface without kv_heads and variant: one kv head per query head, trilinear."""

    def __init__(self, heads, d, scale, budget):
        super().__init__(heads, d, scale, heads, "trilinear")
        self.budget = budget


@pytest.fixture(scope="module")
def sketch():
    if not any(t["name"] == "pairsketch" for t in trikv.caches()):
        trikv.register("pairsketch", PairSketch, params={"budget": trikv.Param(64, "pairs kept", min=1, max=1e6)})
    return "pairsketch"


def test_a_python_cache_is_registered_with_its_parameters(sketch):
    entry = next(t for t in trikv.caches() if t["name"] == sketch)
    assert "self-reported" in entry["description"] and not entry["exact"]
    assert entry["params"][0]["name"] == "budget" and entry["params"][0]["integer"]
    cache = trikv.Cache("pairsketch:budget=8", heads=2, d=4)
    assert cache.spec == "pairsketch:budget=8"
    k = np.ones((3, 2, 4), np.float32)
    cache.append(k, k, k, k)
    assert cache.bytes == 4 * 3 * 2 * 4 * 4  # what the class reports
    with pytest.raises(ValueError, match="budget"):
        trikv.Cache("pairsketch:budget=0", heads=2, d=4)


def test_a_python_cache_decodes_like_the_float64_reference(sketch):
    rng = np.random.default_rng(11)
    x = [rng.standard_normal((7, 4)) for _ in range(5)]
    np.testing.assert_allclose(trikv.attend(*x, cache=sketch), trikv.attend(*x), rtol=1e-4, atol=1e-5)


def test_register_checks_its_arguments():
    with pytest.raises(ValueError, match="not a subclass of trikv.PyCache"):
        trikv.register("notacache", dict)
    with pytest.raises(ValueError, match="registered twice"):
        trikv.register("factor", PairSketch)


def test_a_study_measures_a_python_cache_beside_a_cpp_one(sketch, tmp_path):
    study = {"name": "py", "caches": [f"{sketch}:budget=64", "factor"], "n": [16], "d": [8], "heads": [1],
             "warmup": 0, "repetitions": 2, "measure_peaks": False, "figures": []}
    rows = trikv.run_study(study, out=tmp_path / "py", threads=1)
    by_type = {r["cache_type"]: r for r in rows}
    assert set(by_type) == {sketch, "factor"}
    assert all(r["status"] == "ok" for r in rows)
    assert by_type[sketch]["bytes_source"] == "self-reported" and by_type["factor"]["bytes_source"] == "counted"
    # results.csv itself carries the label, for readers other than trikv.load_results.
    with open(tmp_path / "py" / "results.csv", newline="") as f:
        recorded = {r["cache_type"]: r["bytes_source"] for r in csv.DictReader(f)}
    assert recorded == {sketch: "self-reported", "factor": "counted"}
    # The class's own count (4 float32 rows of d per token) for the n tokens plus the timed steps.
    stored_tokens, remainder = divmod(by_type[sketch]["bytes"], 4 * 8 * 4)
    assert remainder == 0 and 16 <= stored_tokens <= 16 + 2
    assert by_type[sketch]["rel_l2_error"] < 1e-5  # the prototype is exact
    frame = trikv.load_results(tmp_path / "py")
    rows_again = frame.to_dict("records") if hasattr(frame, "to_dict") else frame
    assert [r["key"] for r in rows_again] == [r["key"] for r in rows]


def test_a_study_file_with_overrides(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "file"\ncaches = ["product"]\nn = [8, 12]\nd = [4]\n')
    rows = trikv.run_study(path, out=tmp_path / "out", n=[8], warmup=0, repetitions=1, measure_peaks=False,
                           figures=[])
    assert [r["n"] for r in rows] == [8] and rows[0]["cache"].startswith("product")
    assert math.isfinite(rows[0]["step_ms_median"])
    with pytest.raises(ValueError, match="nosuchkey"):
        trikv.run_study(path, out=tmp_path / "bad", nosuchkey=1)


def test_a_study_budget_fits_each_approximate_cache_and_says_so(tmp_path):
    study = {"caches": ["factor", "window"], "budget": ["25%", 100], "n": [16], "d": [4], "warmup": 0,
             "repetitions": 1, "measure_peaks": False, "figures": []}
    rows = {(r["cache_type"], r["budget"]): r for r in trikv.run_study(study, out=tmp_path / "b", threads=1)}
    assert set(rows) == {("factor", ""), ("window", "25%"), ("window", "100")}  # exact: once, unbudgeted
    quarter = trikv.parse_budget("25%", 1, 4, 16)
    fitted = rows[("window", "25%")]
    assert fitted["status"] == "ok" and fitted["cache"] == trikv.fit_budget("window", 1, 4, 16, quarter)[0]
    assert rows[("window", "100")]["cache"] == trikv.fit_budget("window", 1, 4, 16, 100)[0]
    with pytest.raises(ValueError, match="budget = 'lots'"):
        trikv.run_study(dict(study, budget="lots"), out=tmp_path / "bad")


class WrongShape(PairSketch):
    """Answers one head too few (a bug the trampoline must catch)."""

    def attend(self, q):
        return super().attend(q)[:, :-1]


class Raises(PairSketch):
    """Fails inside attend."""

    def attend(self, q):
        raise RuntimeError("prototype bug")


def test_errors_in_python_caches_reach_the_caller():
    trikv.register("wrongshape", WrongShape, params={"budget": 1})
    trikv.register("raises", Raises, params={"budget": 1})
    k = np.ones((2, 4), np.float32)
    wrong, failing = trikv.Cache("wrongshape", heads=2, d=4), trikv.Cache("raises", heads=2, d=4)
    for cache in (wrong, failing):
        cache.append(k, k, k, k)
    with pytest.raises(ValueError, match=r"^wrongshape:budget=1: attend returned shape \(1, 1, 4\); expected \(1, 2, 4\)$"):
        wrong.attend(k)
    with pytest.raises(RuntimeError, match="prototype bug"):
        failing.attend(k)
    assert len(failing) == 1  # the cache is still usable
