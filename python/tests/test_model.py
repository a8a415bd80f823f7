"""The shipped 2-simplicial language model (python/trikv/model, docs/model.md): its windowed
training path against the float64 loops, its traces written and read back (and read by the
C++ study), and its loss through trikv caches equal to the training path's for exact ones."""
import json
import math
import pathlib
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from trikv import run_study  # noqa: E402
from trikv.model import corpus, evaluate, sweep, traces  # noqa: E402
from trikv.model.network import SIMPLICIAL, windowed_simplicial_attention  # noqa: E402
from trikv.model.shipped import load  # noqa: E402
from trikv.model.train import as_tensor, held_out_chunks  # noqa: E402

from reference import decode  # noqa: E402


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return load()[0]


@pytest.fixture(scope="module")
def held_out():
    return corpus.split(corpus.text())[1]


@pytest.mark.parametrize("w1, w2", [(3, 5), (6, 2), (1, 9), (9, 9)])
def test_windowed_training_path_matches_the_float64_loops(w1, w2):
    g = torch.Generator().manual_seed(w1 * 10 + w2)
    x = [torch.randn(2, 9, 2, 4, generator=g) for _ in range(5)]
    out = windowed_simplicial_attention(*x, w1, w2, 0.5)
    heads_first = [a.double().numpy().transpose(0, 2, 1, 3) for a in x]
    expected = np.stack([decode(*(a[b] for a in heads_first), 0.5, w1=w1, w2=w2) for b in range(2)])
    np.testing.assert_allclose(out.numpy(), expected.transpose(0, 2, 1, 3), rtol=1e-4, atol=1e-5)


def test_traces_hold_every_layer_and_head_and_the_cpp_study_reads_them(model, held_out, tmp_path):
    config = model.config
    text = held_out[:config.context]
    manifest = traces.write_traces(model, text, str(tmp_path))
    assert json.loads((tmp_path / traces.MANIFEST).read_text()) == manifest
    assert manifest["tokens"] == config.context and len(manifest["layers"]) == len(config.layers)
    activations = {}
    x = model.embed(as_tensor(text)[None]) + model.position(torch.arange(config.context))
    with torch.no_grad():  # recompute each layer's streams by hand, block by block
        for layer, block in enumerate(model.blocks):
            activations[layer] = block.attention.activations(block.attention_norm(x))
            x = block(x)
    for entry in manifest["layers"]:
        layer = entry["layer"]
        assert entry["kind"] == config.layers[layer]
        expected = {"q", "k1", "k2", "v1", "v2"} if entry["kind"] == SIMPLICIAL else {"q", "k", "v"}
        assert set(entry["streams"]) == expected
        for head in range(config.heads):
            arrays = traces.read_trace(str(tmp_path), layer, head)
            assert set(arrays) == expected
            for name, array in arrays.items():
                assert array.dtype == np.float32 and array.shape == (config.context, config.d)
                np.testing.assert_allclose(array, activations[layer][name][0, :, head].numpy(), rtol=1e-5, atol=1e-5)
    layer = config.layers.index(SIMPLICIAL)
    rows = run_study({"name": "trace", "caches": ["factor"], "n": [16], "d": [config.d], "warmup": 1,
                      "repetitions": 2, "threads": 1, "figures": [], "measure_peaks": False,
                      "data": {"kind": "trace", "dir": str(tmp_path), "layer": layer, "head": [0, 1]}},
                     out=str(tmp_path / "study"))
    # trace_layer and trace_head are text columns (empty for other data kinds): they stay text.
    assert [(r["trace_layer"], r["trace_head"], r["status"]) for r in rows] == [(str(layer), "0", "ok"),
                                                                                (str(layer), "1", "ok")]
    assert all(r["rel_l2_error"] < 1e-4 for r in rows)


FLOAT32_ROUNDING = 1e-5  # relative: the loss through a float32 cache against the training path's


def test_exact_caches_reproduce_the_training_path_loss(model, held_out):
    config = model.config
    short = held_out_chunks(held_out, config.w1, 1)  # w1 tokens: every pair inside both windows
    exact = evaluate.exact_loss(model, short)
    for spec in ("factor", "product", f"window:w1={config.w1},w2={config.w2}"):
        assert evaluate.cache_loss(model, short, spec)["loss"] == pytest.approx(exact, rel=FLOAT32_ROUNDING), spec
    whole = held_out_chunks(held_out, config.context, 1)  # a whole context: only the model's window is exact
    exact = evaluate.exact_loss(model, whole)
    window = evaluate.cache_loss(model, whole, f"window:w1={config.w1},w2={config.w2}")
    assert window["loss"] == pytest.approx(exact, rel=FLOAT32_ROUNDING)
    assert window["perplexity"] == pytest.approx(math.exp(window["loss"]))
    assert window["cache_bytes"] > 0 and window["step_ms"] > 0
    smaller = evaluate.cache_loss(model, whole, f"window:w1={config.w1 // 4},w2={config.w2 // 4}")
    # A smaller window is an approximation of this model: its loss moves well past rounding.
    assert abs(smaller["loss"] - exact) > 10 * FLOAT32_ROUNDING * exact
    assert smaller["cache_bytes"] < window["cache_bytes"]


def test_a_bad_cache_spec_is_a_one_line_error_before_any_work(capsys):
    assert evaluate.main(["--cache", "window:w1=0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "w1=0" in err


def test_the_sweep_figure_redraws_from_its_csv(tmp_path, capsys):
    """--redraw draws docs' sweep.csv again through studies/figures/gnuplot/model-sweep.gp."""
    assert sweep.main(["--out", str(tmp_path), "--redraw"]) == 2  # no sweep.csv yet: one line
    assert capsys.readouterr().err.count("\n") == 1
    if shutil.which("gnuplot") is None:
        pytest.skip("gnuplot is not on PATH")
    shipped = pathlib.Path(__file__).parents[2] / "docs" / "figures" / "model-sweep" / "sweep.csv"
    shutil.copy(shipped, tmp_path / "sweep.csv")
    assert sweep.main(["--out", str(tmp_path), "--redraw"]) == 0
    for ext in ("png", "pdf"):
        assert (tmp_path / f"sweep.{ext}").stat().st_size > 0
    assert (tmp_path / "sweep.csv").read_bytes() == shipped.read_bytes()  # the data is left as it was
