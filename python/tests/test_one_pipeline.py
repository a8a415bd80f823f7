"""Every entry point resolves a point the same way and writes one table: trikv.Cache, the
`trikv bench` command line and a study agree on the default scale and on exactness, and
trikv.load_results reads a study's, a merged study's and bench's tables alike, converting only
the schema's numeric columns."""
import csv
import math
import os
import subprocess

import numpy as np
import pytest

import trikv

CLI = os.environ.get("TRIKV_CLI", "")


def bench_rows(tmp_path, *args):
    assert CLI, "TRIKV_CLI names the built `trikv` (ctest sets it)"
    path = tmp_path / "bench.csv"
    done = subprocess.run([CLI, "bench", "--no-peaks", "--warmup", "0", "--repetitions", "1", "--csv", str(path),
                           *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return trikv.load_results(path)


def records(table):
    return table.to_dict("records") if hasattr(table, "to_dict") else table


@pytest.mark.parametrize("spec,default", [("matrix", lambda d: 1 / math.sqrt(d)), ("factor", lambda d: 1 / d),
                                          ("product:dtype=bf16", lambda d: 1 / d)])
def test_cache_bench_and_study_resolve_one_default_scale(tmp_path, spec, default):
    d = 16
    cache = trikv.Cache(spec, heads=2, d=d)
    assert cache.scale == pytest.approx(default(d), rel=1e-15)
    bench = records(bench_rows(tmp_path, "--cache", spec, "--n", 8, "--d", d, "--heads", 2))
    study = trikv.run_study({"name": "s", "caches": [spec], "n": [8], "d": [d], "heads": [2], "warmup": 0,
                             "repetitions": 1, "measure_peaks": False, "figures": []}, out=tmp_path / "study")
    assert bench[0]["attention_scale"] == pytest.approx(cache.scale, rel=1e-15)
    assert study[0]["attention_scale"] == pytest.approx(cache.scale, rel=1e-15)
    # Same typed configuration: the same point key, whichever command measured it.
    assert bench[0]["key"] == study[0]["key"]
    # And the same function: the cache computes standard attention at 1/sqrt(d) for matrix.
    k = np.random.default_rng(0).standard_normal((5, 2, d)).astype(np.float32)
    explicit = trikv.Cache(spec, heads=2, d=d, scale=default(d))
    for c in (cache, explicit):
        c.append(k, k, k, k)
    np.testing.assert_array_equal(cache.attend(k[0]), explicit.attend(k[0]))


def test_exactness_is_the_types_answer_for_its_parameters(tmp_path):
    assert trikv.Cache("product", 1, 8).exact and trikv.is_exact("product:dtype=f32")
    assert not trikv.Cache("product:dtype=int8", 1, 8).exact and not trikv.is_exact("factor:dtype=bf16")
    assert not trikv.Cache("window:w1=4,w2=4", 1, 8).exact
    rows = records(bench_rows(tmp_path, "--cache", "factor:dtype=fp16", "--cache", "factor", "--n", 8, "--d", 8))
    assert [r["exact"] for r in rows] == [0, 1]


def test_load_results_keeps_text_columns_text(tmp_path):
    rows = records(bench_rows(tmp_path, "--cache", "factor", "--n", 8, "--d", 8))
    header = list(rows[0])
    assert header == list(trikv.studies._core._result_schema())  # bench writes results.csv's columns
    # A key of digits with one 'e' reads as a float ('inf') if every field is converted.
    rows[0]["key"] = "0286153784e63752"
    path = tmp_path / "results.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerow(rows[0])
    again = records(trikv.load_results(tmp_path))
    assert again[0]["key"] == "0286153784e63752"
    assert isinstance(again[0]["n"], int) and isinstance(again[0]["step_ms_median"], float)
    assert again[0]["trace_layer"] == ""  # empty text stays empty, not NaN


def test_load_results_reads_a_merged_study(tmp_path):
    study = {"name": "m", "caches": ["factor", "matrix"], "n": [8], "d": [4], "warmup": 0, "repetitions": 1,
             "measure_peaks": False, "figures": []}
    path = tmp_path / "m.toml"
    path.write_text(trikv.studies.to_toml({**study, "out": str(tmp_path / "m")}))
    for shard in ("0/2", "1/2"):
        subprocess.run([CLI, "study", str(path), "--shard", shard], check=True, capture_output=True)
    subprocess.run([CLI, "study", str(path), "--merge"], check=True, capture_output=True)
    rows = records(trikv.load_results(tmp_path / "m"))
    assert sorted(r["cache_type"] for r in rows) == ["factor", "matrix"]
    assert all(isinstance(r["bytes"], float) for r in rows)


def test_load_results_reads_prefill_rows(tmp_path):
    assert CLI, "TRIKV_CLI names the built `trikv` (ctest sets it)"
    path = tmp_path / "prefill.csv"
    subprocess.run([CLI, "prefill", "--no-peaks", "--n", "8", "--n", "16", "--d", "4", "--repetitions", "1",
                    "--csv", str(path)], check=True, capture_output=True)
    rows = records(trikv.load_results(path))
    assert [r["n"] for r in rows] == [8, 16]
    assert {r["workload"] for r in rows} == {"prefill"} and {r["system"] for r in rows} == {"trikv"}
    assert all(0 < r["rel_l2_error"] <= 1e-5 and r["bytes"] == 4 * r["n"] * 4 * 4 for r in rows)


def test_a_peers_rows_share_the_table_and_the_figures(tmp_path):
    """studies/peers/ records PyTorch beside trikv with trikv.write_results: the C++ reader takes
    the table (`trikv figures` draws both systems), load_results reads the system column."""
    own = records(bench_rows(tmp_path, "--cache", "factor", "--n", 8, "--n", 16, "--d", 8))
    peer = [{**{k: own_row[k] for k in ("workload", "n", "d", "heads", "kv_heads", "data", "attention_scale")},
             "system": "pytorch", "cache": "reassociated", "cache_type": "reassociated", "exact": True,
             "bytes": 4.0 * (own_row["n"] + 1) * 8 * 4, "step_ms_median": 0.5, "key": f"{i:016x}"}
            for i, own_row in enumerate(own)]
    path = tmp_path / "peers.csv"
    trikv.write_results(path, own + peer)
    rows = records(trikv.load_results(path))
    assert [r["system"] for r in rows] == ["trikv", "trikv", "pytorch", "pytorch"]
    assert rows[2]["status"] == "ok" and rows[2]["variant"] == "trilinear"  # the C++ writer's defaults
    figures = subprocess.run([CLI, "figures", str(path), "--out", str(tmp_path / "figures"), "--figure", "scaling"],
                             capture_output=True, text=True)
    assert figures.returncode == 0, figures.stderr
    assert "pytorch reassociated" in (tmp_path / "figures" / "scaling.csv").read_text()
    with pytest.raises(ValueError, match="not_a_column"):
        trikv.write_results(path, [{"not_a_column": 1}])
    old = tmp_path / "old.csv"  # a table from before the system column: trikv's, as the C++ reader says
    old.write_text("cache,n\nfactor,8\n")
    assert records(trikv.load_results(old))[0]["system"] == "trikv"
