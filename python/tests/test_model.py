"""The model zoo (python/trikv/model, docs/model.md): the training path against the float64 loops
(windowed, full-square, grouped heads), the Match3 task against its definition, traces written
and read back (and read by the C++ study), losses through trikv caches equal to the training
path's for exact caches, budgets, intervals, the commands' output, and one-line refusals of
bad checkpoints, records, manifests and output directories. No training runs here: the tests
use the shipped checkpoint or tiny untrained models."""
import csv
import io
import json
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import trikv  # noqa: E402
from trikv import caches, run_study  # noqa: E402
from trikv.model import budget, checkpoint, corpus, evaluate, match3, statistics, sweep, tasks, traces, train, zoo  # noqa: E402
from trikv.model.network import SIMPLICIAL, STANDARD, Config, LanguageModel, windowed_simplicial_attention  # noqa: E402

from reference import decode  # noqa: E402

# The cache types trikv registers itself, before any test adds its own.
BUILT_IN_TYPES = {c["name"] for c in caches()}


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return checkpoint.load(zoo.SHIPPED)[0]


@pytest.fixture(scope="module")
def held_out():
    return corpus.split(corpus.text())[1]


def tiny(**changes):
    """An untrained model small enough to decode in a moment."""
    torch.manual_seed(0)
    values = dict(d_model=16, heads=2, layers=(STANDARD, SIMPLICIAL, SIMPLICIAL), context=12, w1=None, w2=None,
                  mlp_ratio=2, vocabulary=16, outputs=0)
    return LanguageModel(Config(**dict(values, **changes))).eval()


@pytest.mark.parametrize("w1, w2, kv_heads", [(3, 5, 2), (6, 2, 2), (1, 9, 2), (9, 9, 2), (3, 5, 1), (9, 9, 1)])
def test_windowed_training_path_matches_the_float64_loops(w1, w2, kv_heads):
    """w1 = w2 = 9 = the sequence is the full square; kv_heads 1: two query heads share one kv head."""
    g = torch.Generator().manual_seed(w1 * 10 + w2 + kv_heads)
    q = torch.randn(2, 9, 2, 4, generator=g)
    keys = [torch.randn(2, 9, kv_heads, 4, generator=g) for _ in range(4)]
    out = windowed_simplicial_attention(q, *keys, w1, w2, 0.5)
    heads_first = [a.double().numpy().transpose(0, 2, 1, 3) for a in [q, *keys]]
    expected = np.stack([decode(*(a[b] for a in heads_first), 0.5, w1=w1, w2=w2) for b in range(2)])
    np.testing.assert_allclose(out.numpy(), expected.transpose(0, 2, 1, 3), rtol=1e-4, atol=1e-5)


def test_match3_labels_follow_the_rule_and_are_balanced():
    tokens, labels = match3.sample(64, zoo.MATCH3_LENGTH, zoo.MATCH3_MODULUS, torch.Generator().manual_seed(3))
    assert tokens.shape == labels.shape == (64, zoo.MATCH3_LENGTH)
    assert int(tokens.min()) >= 0 and int(tokens.max()) < zoo.MATCH3_MODULUS
    for row, expected in zip(tokens.tolist(), labels.tolist()):
        assert match3.rule(row, zoo.MATCH3_MODULUS) == expected
    positive, per_position, position_only = match3.balance(zoo.MATCH3_LENGTH, zoo.MATCH3_MODULUS)
    assert 0.45 < positive < 0.55 and position_only < 0.65
    # No sampled label is decided by a pair involving t itself or one position twice: the
    # pairwise checks standard attention can make say nothing.
    for row in tokens.tolist():
        m = zoo.MATCH3_MODULUS
        assert not any((3 * x) % m == 0 or any((2 * x + a) % m == 0 or (x + 2 * a) % m == 0 for a in row[:t])
                       for t, x in enumerate(row) if t > 2)


def test_traces_hold_every_layer_and_head_and_the_cpp_study_reads_them(model, held_out, tmp_path):
    config = model.config
    text = held_out[:config.context]
    manifest = traces.write_traces(model, text, str(tmp_path))
    assert json.loads((tmp_path / traces.MANIFEST).read_text()) == manifest
    assert manifest["tokens"] == config.context and manifest["contiguous"] is True
    assert len(manifest["layers"]) == len(config.layers)
    activations = {}
    x = model.embed(tasks.as_tensor(text)[None]) + model.position(torch.arange(config.context))
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


def test_traces_longer_than_the_context_say_how_they_were_assembled(tmp_path, capsys):
    model = tiny(vocabulary=256)
    manifest = traces.write_traces(model, bytes(range(36)), str(tmp_path))
    assert manifest["contiguous"] is False and "3 consecutive" in manifest["assembled"]
    assert traces.read_trace(str(tmp_path), 1, 0)["k1"].shape == (36, model.config.d)
    with pytest.raises(ValueError, match="--tokens"):
        traces.write_traces(model, bytes(20), str(tmp_path))


FLOAT32_ROUNDING = 1e-5  # relative: the loss through a float32 cache against the training path's


def decoded_loss(model, inputs, targets, spec):
    logits, step_ms, cache_bytes = evaluate.decode(model, inputs, evaluate.layer_specs(spec, model))
    return tasks.Language.per_sequence(logits, targets), step_ms, cache_bytes


@pytest.mark.parametrize("kv_heads", [None, 1])
def test_exact_caches_reproduce_a_full_square_models_loss(kv_heads):
    """The issue's 1e-3 is met with room: every exact cache within float32 rounding, per sequence."""
    model = tiny(kv_heads=kv_heads)
    g = torch.Generator().manual_seed(1)
    inputs, targets = (torch.randint(0, 16, (3, 12), generator=g) for _ in range(2))
    exact, _ = tasks.evaluate(model, tasks.Language(), inputs, targets)
    exact_specs = []
    for cache_type in caches():
        # trikv's own types: other test files register Python types (one over-claims exactness
        # on purpose) and load a plugin into the same registry.
        if cache_type["attention"] != "tensor" or cache_type["name"] not in BUILT_IN_TYPES:
            continue
        try:
            if budget.is_exact(cache_type["name"], 2, 8):
                exact_specs.append(cache_type["name"])
        except ValueError as error:  # a type that does not do trilinear scores says so
            assert "variant" in str(error)
    assert {"factor", "product"} <= set(exact_specs)
    for spec in exact_specs + ["factor;product", "window:w1=12,w2=12"]:
        values, _, _ = decoded_loss(model, inputs, targets, spec)
        np.testing.assert_allclose(values.numpy(), exact.numpy(), rtol=FLOAT32_ROUNDING, err_msg=spec)
    approximate, _, _ = decoded_loss(model, inputs, targets, "window:w1=2,w2=3")
    assert (approximate - exact).abs().max() > 100 * FLOAT32_ROUNDING


def test_the_windowed_models_own_window_reproduces_its_loss(model, held_out):
    config = model.config
    inputs, targets = tasks.Language().held_out(config, 1)
    exact, _ = tasks.evaluate(model, tasks.Language(), inputs, targets)
    window, step_ms, cache_bytes = decoded_loss(model, inputs, targets, f"window:w1={config.w1},w2={config.w2}")
    assert window.item() == pytest.approx(exact.item(), rel=FLOAT32_ROUNDING)
    assert cache_bytes > 0 and step_ms > 0
    smaller, _, smaller_bytes = decoded_loss(model, inputs, targets, f"window:w1={config.w1 // 4},w2={config.w2 // 4}")
    assert abs(smaller.item() - exact.item()) > 10 * FLOAT32_ROUNDING * exact.item()
    assert smaller_bytes < cache_bytes


def test_bootstrap_intervals_cover_the_mean_and_shrink_to_a_point_for_constants():
    values = torch.tensor([1.0, 2.0, 3.0, 10.0], dtype=torch.float64)
    mean, (lo, hi) = evaluate.bootstrap(values)
    assert mean == pytest.approx(4.0) and 1.0 <= lo < mean < hi <= 10.0
    assert evaluate.bootstrap(torch.full((5,), 2.5, dtype=torch.float64))[1] == [2.5, 2.5]
    difference, (lo, hi) = evaluate.bootstrap(values + 1, values)  # paired: exactly 1 everywhere
    assert difference == lo == hi == pytest.approx(1.0)


def counted_bytes(spec, heads, d, streams, kv_heads=None):
    """The reference: bytes counted through the allocator after appending the sequence."""
    cache = trikv.Cache(spec, heads, d, kv_heads=kv_heads)
    cache.append(*streams)
    return cache.bytes


def random_streams(tokens, kv_heads, d, seed):
    g = np.random.default_rng(seed)
    return tuple(g.standard_normal((tokens, kv_heads, d)).astype(np.float32) for _ in range(4))


def test_a_budget_picks_each_familys_most_accurate_setting_that_fits():
    heads, d, tokens, windows = 2, 8, 32, (8, 32)
    streams = random_streams(tokens, heads, d, 5)
    size = budget.parse_budget("25%", heads, d, tokens)
    assert size == int(0.25 * counted_bytes("factor", heads, d, streams))
    assert budget.parse_budget("1000", heads, d, tokens) == 1000
    for bad in ("0%", "-5", "lots", "0"):
        with pytest.raises(ValueError, match="--budget"):
            budget.parse_budget(bad, heads, d, tokens)
    assert {"window", "subgen4", "poly", "factor"} <= set(budget.families())
    chosen = budget.fit(size, heads, d, tokens, windows, calibration=[streams])
    assert "window" in chosen
    caps = {"w1": windows[0], "w2": windows[1]}
    for family, choice in chosen.items():
        assert choice.bytes == counted_bytes(choice.spec, heads, d, streams) <= size
        ladder = trikv.accuracy_ladder(family, tokens, caps)
        for more_accurate in ladder[ladder.index(choice.spec) + 1:]:  # every more accurate one is too big
            assert counted_bytes(more_accurate, heads, d, streams) > size
    window = trikv.Cache(chosen["window"].spec, heads, d).spec  # never beyond what the model attends
    assert int(window.split("w1=")[1].split(",")[0]) <= windows[0] and int(window.split("w2=")[1]) <= windows[1]
    assert budget.fit(1, heads, d, tokens, windows, calibration=[streams]) == {}  # nothing fits one byte
    with pytest.raises(ValueError, match="depend on the keys"):  # SubGen is counted on data, never guessed
        budget.fit(size, heads, d, tokens, windows)


def test_a_budget_per_kv_head_fits_each_head_its_own_setting():
    heads, kv_heads, d, tokens, windows = 4, 2, 8, 32, (32, 32)
    streams = random_streams(tokens, kv_heads, d, 6)
    for keys in streams[:2]:  # kv head 0's keys take two values: SubGen keeps two clusters there
        keys[:, 0] = keys[np.arange(tokens) % 2, 0]
    _, even = budget.fit_text("50%|50%", heads, d, tokens, windows, kv_heads, [streams])
    subgen = even["subgen4"].spec.split("|")  # fitted on each head's own keys: more samples on head 0
    assert subgen[0] != subgen[1] and subgen[0].replace("samples=4", "samples=2") == subgen[1], subgen
    sizes, chosen = budget.fit_text("50%|5%", heads, d, tokens, windows, kv_heads, [streams])
    group = heads // kv_heads
    assert sizes == [budget.parse_budget(b, group, d, tokens, 1) for b in ("50%", "5%")]
    window = chosen["window"].spec.split("|")
    assert len(window) == kv_heads and window[0] != window[1]  # the generous head keeps a wider window
    for family, choice in chosen.items():
        specs = choice.spec.split("|")
        head_bytes = [counted_bytes(s, group, d, tuple(x[:, h:h + 1] for x in streams), kv_heads=1)
                      for h, s in enumerate(specs)]
        assert sum(head_bytes) == choice.bytes and all(b <= size for b, size in zip(head_bytes, sizes))
    _, even = budget.fit_text("25%|25%", heads, d, tokens, windows, kv_heads, [streams])
    quarter = budget.parse_budget("25%", group, d, tokens, 1)  # each head: a quarter of one kv head's factor cache
    assert even["poly"].spec == "|".join([budget.fit(quarter, group, d, tokens, windows, 1, [[x[:, :1] for x in streams]])["poly"].spec] * 2)
    with pytest.raises(ValueError, match="3 budgets for 2 kv heads"):
        budget.fit_text("1%|2%|3%", heads, d, tokens, windows, kv_heads)
    model = tiny(heads=4, kv_heads=2)  # evaluate fits per kv head and decodes the "A|B" specs
    g = torch.Generator().manual_seed(4)
    inputs = torch.randint(0, 16, (2, 12), generator=g)
    sizes, specs = evaluate.budget_caches("50%|10%", model, inputs)
    assert len(sizes) == 2 and specs and all(s.count("|") == 1 for s in specs)
    for spec in specs:
        evaluate.layer_specs(spec, model)


def test_exactness_comes_from_the_cache():
    assert budget.is_exact("factor") and budget.is_exact("product")
    assert not budget.is_exact("factor:dtype=int8") and not budget.is_exact("window:w1=4,w2=4")
    assert not budget.is_exact("poly:degree=2")


def test_evaluate_prints_json_with_intervals_and_quoted_csv(capsys):
    spec = "window:w1=8,w2=32"
    assert evaluate.main(["--model", "kjv-window", "--sequences", "2", "--cache", spec, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "kjv-window" and result["metric"] == "loss"
    lo, hi = result["exact"]["ci"]
    assert lo <= result["exact"]["value"] <= hi
    (row,) = result["caches"]
    assert row["spec"] == spec and row["value"] == pytest.approx(result["exact"]["value"], rel=FLOAT32_ROUNDING)
    assert row["cache_bytes"] > 0 and row["step_ms"] > 0 and len(row["ci"]) == 2
    assert evaluate.main(["--model", "kjv-window", "--sequences", "1", "--cache", f"{spec};factor"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["cache"] for r in rows] == ["exact (training path)", f"{spec};factor"]
    assert rows[1]["cache_type"] == "factor;window" and int(rows[1]["bytes"]) > 0


@pytest.mark.parametrize("arguments, field", [
    (["--cache", "window:w1=0"], "w1=0"),
    (["--cache", "factor;factor;factor"], "3 specs"),
    (["--model", "nonesuch", "--cache", "factor"], "nonesuch"),
    (["--budget", "lots"], "--budget"),
    (["--model", "match3-standard", "--checkpoint", "STANDARD", "--budget", "25%"], "no 2-simplicial"),
    (["--cache", "factor", "--sequences", "0"], "--sequences"),
])
def test_a_bad_argument_is_a_one_line_error_before_any_work(arguments, field, capsys, tmp_path):
    if "STANDARD" in arguments:
        saved_tiny(tmp_path / "standard", layers=(STANDARD,), vocabulary=zoo.MATCH3_MODULUS, outputs=2,
                   context=zoo.MATCH3_LENGTH)
        arguments = [str(tmp_path / "standard") if a == "STANDARD" else a for a in arguments]
    assert evaluate.main(arguments) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and field in err


def test_cache_specs_are_one_per_two_simplicial_layer():
    model = tiny()
    assert evaluate.layer_specs("factor", model) == ["factor", "factor"]
    assert evaluate.layer_specs("factor; poly:degree=2", model) == ["factor", "poly:degree=2"]
    with pytest.raises(ValueError, match="no 2-simplicial"):
        evaluate.layer_specs("factor", tiny(layers=(STANDARD,)))


def damaged_copies(tmp_path):
    """Model directories whose checkpoint or record is broken, each with what the error names."""
    record = json.loads(open(f"{zoo.SHIPPED}/record.json").read())
    weights = open(f"{zoo.SHIPPED}/checkpoint.pt", "rb").read()
    cases = {
        "empty checkpoint": (b"", record),
        "truncated checkpoint": (weights[:len(weights) // 2], record),
        "random checkpoint": (np.random.default_rng(0).bytes(4096), record),
        "pickled object": (pickle.dumps(print), record),
        "bad record": (weights, {"config": {"heads": "four"}}),
        "record without config": (weights, {"held_out_loss": 1}),
        "record for another shape": (weights, dict(record, config=dict(record["config"], d_model=64))),
    }
    for name, (data, content) in cases.items():
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        (folder / "checkpoint.pt").write_bytes(data)
        (folder / "record.json").write_text(json.dumps(content))
        yield name, folder
    folder = tmp_path / "not-json"
    folder.mkdir()
    (folder / "checkpoint.pt").write_bytes(weights)
    (folder / "record.json").write_text("{")
    yield "record that is not JSON", folder


def test_damaged_checkpoints_and_records_are_one_line_errors(tmp_path, capsys):
    for name, folder in damaged_copies(tmp_path):
        for command in (["evaluate", "--cache", "factor"], ["traces", "--out", str(tmp_path / "t")],
                        ["train", "--verify", "--out"]):
            module = {"evaluate": evaluate, "traces": traces, "train": train}[command[0]]
            arguments = command[1:] + ([str(folder)] if command[0] == "train" else ["--checkpoint", str(folder)])
            assert module.main(arguments) == 2, (name, command)
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and str(folder) in err, (name, command, err)
    assert not (tmp_path / "t").exists()  # nothing written before the checkpoint loaded


def test_a_non_weights_checkpoint_is_refused_not_run(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    folder = tmp_path / "model"
    folder.mkdir()
    torch.save({"weights": Payload()}, folder / "checkpoint.pt")
    (folder / "record.json").write_text(open(f"{zoo.SHIPPED}/record.json").read())
    with pytest.raises(checkpoint.CheckpointError, match="weights-only"):
        checkpoint.load(str(folder))
    assert not marker.exists()


def test_unwritable_out_and_bad_manifests_are_one_line_errors(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert traces.main(["--out", str(blocker / "under"), "--tokens", "8"]) == 2
    assert train.main(["--model", "match3-simplicial", "--out", str(blocker / "under")]) == 2
    assert sweep.main(["--model", "kjv-window", "--out", str(blocker / "under"), "--budgets", "bad"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and all("not a writable directory" in e or "--budget" in e for e in errors)
    for content in ("{", "[]", '{"tokens": "many", "layers": []}'):
        (tmp_path / traces.MANIFEST).write_text(content)
        assert statistics.main(["--trace", str(tmp_path)]) == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_the_zoo_lists_every_model(capsys):
    assert zoo.main(["--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in listed] == list(zoo.MODELS)
    for entry in listed:
        model = zoo.MODELS[entry["name"]]
        assert entry["kind"] == (SIMPLICIAL if SIMPLICIAL in model.config.layers else STANDARD)
        assert entry["parameters"] == sum(p.numel() for p in LanguageModel(model.config).parameters())
        assert entry["window"] is None or entry["window"] == [model.config.w1, model.config.w2]
        assert entry["checkpoint_bytes"] <= 8 << 20
        assert entry["verify"].endswith(f"--model {entry['name']} --verify")
    assert zoo.main([]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(listed) + 1


def test_the_sweep_redraw_refuses_a_missing_or_foreign_csv(tmp_path, capsys):
    assert sweep.main(["--out", str(tmp_path), "--redraw"]) == 2
    (tmp_path / "sweep.csv").write_text("a,b\n1,2\n")
    assert sweep.main(["--out", str(tmp_path), "--redraw"]) == 2
    assert capsys.readouterr().err.count("\n") == 2


def saved_tiny(folder, **changes):
    """A tiny untrained model (a byte language model unless changes say otherwise) saved as a
    checkpoint directory."""
    model = tiny(**dict({"vocabulary": 256}, **changes))
    folder.mkdir()
    torch.save(model.state_dict(), folder / "checkpoint.pt")
    (folder / "record.json").write_text(json.dumps({"config": json.loads(model.config.to_json()),
                                                    "schedule": {"held_out_chunks": 2}}))
    return model


def test_the_sweep_compares_families_at_equal_budgets_and_redraws(tmp_path, capsys):
    model = saved_tiny(tmp_path / "model")
    out = tmp_path / "sweep"
    assert sweep.main(["--model", "kjv-window", "--checkpoint", str(tmp_path / "model"), "--out", str(out),
                       "--budgets", "25%,100%"]) == 0
    rows = list(csv.DictReader(open(out / "sweep.csv", newline="")))
    assert set(sweep.SWEEP_COLUMNS) == set(rows[0]) and rows[0]["family"] == "exact"
    factor = next(r for r in rows if r["cache"] == "factor")
    assert factor["family"] == "factor (exact)" and float(factor["value"]) == pytest.approx(float(rows[0]["value"]), rel=1e-5)
    config, layers = model.config, sum(kind == SIMPLICIAL for kind in model.config.layers)
    for r in rows[2:]:
        assert r["budgets"] and r["status"] == "ok", r
        smallest = min(budget.parse_budget(b, config.heads, config.d, config.context) for b in r["budgets"].split(";"))
        if not r["cache_type"].startswith("subgen"):  # SubGen's size varies with each sequence's keys
            assert int(r["bytes"]) <= layers * smallest, r  # the cost model's promise, counted after decoding
    assert {r["family"] for r in rows} >= {"window", "poly"}
    for ext in ("png", "pdf"):
        (out / f"sweep.{ext}").unlink()
    capsys.readouterr()
    assert sweep.main(["--model", "kjv-window", "--out", str(out), "--redraw"]) == 0
    assert (out / "sweep.png").stat().st_size > 0 and (out / "sweep.pdf").stat().st_size > 0


def test_a_cache_per_kv_head_serves_its_group_of_query_heads():
    model = tiny(heads=4, kv_heads=2)  # two kv heads, each read by two query heads
    g = torch.Generator().manual_seed(2)
    inputs, targets = (torch.randint(0, 16, (2, 12), generator=g) for _ in range(2))
    exact, _ = tasks.evaluate(model, tasks.Language(), inputs, targets)
    both, _, both_bytes = decoded_loss(model, inputs, targets, "factor|product")
    np.testing.assert_allclose(both.numpy(), exact.numpy(), rtol=FLOAT32_ROUNDING)
    mixed, _, mixed_bytes = decoded_loss(model, inputs, targets, "factor|window:w1=2,w2=2")
    assert (mixed - exact).abs().max() > 10 * FLOAT32_ROUNDING  # one kv head's window cuts pairs
    small, _, _ = decoded_loss(model, inputs, targets, "window:w1=2,w2=2")
    assert (mixed - exact).abs().max() < (small - exact).abs().max()  # the other head stays exact
    assert mixed_bytes < both_bytes
    with pytest.raises(ValueError, match="3 specs for 2 kv heads"):
        evaluate.layer_specs("factor|factor|factor", model)


def test_the_traces_command_writes_one_contiguous_sequence_when_it_fits(tmp_path, capsys):
    assert traces.main(["--out", str(tmp_path / "t"), "--tokens", "100"]) == 0
    manifest = json.loads((tmp_path / "t" / traces.MANIFEST).read_text())
    assert manifest["tokens"] == 100 and manifest["contiguous"] is True and "assembled" not in manifest
    assert "contiguous" in capsys.readouterr().out
    for bad in ("0", "200"):  # 200 > the context 128 and not a multiple of it
        assert traces.main(["--out", str(tmp_path / bad), "--tokens", bad]) == 2
        assert capsys.readouterr().err.count("\n") == 1 and not (tmp_path / bad).exists()
    assert traces.main(["--model", "match3-standard", "--out", str(tmp_path / "m")]) == 2
    assert "not a language model" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["match3-simplicial", "match3-standard"])
def test_a_trained_match3_checkpoint_verifies(name, capsys):
    """--verify recomputes the recorded held-out loss and accuracy (2,048 sequences, a second)."""
    assert train.main(["--model", name, "--verify"]) == 0
    assert capsys.readouterr().out.count("reproduced") == 2


def test_every_trained_checkpoint_loads_weights_only_and_fits_its_record():
    for model in zoo.MODELS.values():
        loaded, record = checkpoint.load(model.directory)
        assert sum(p.numel() for p in loaded.parameters()) == record["parameters"] == zoo.parameters(model.config)
        assert loaded.config == model.config  # the zoo's definition is what was trained


def test_the_grouped_windowed_models_own_window_reproduces_its_loss():
    """kjv-grouped: two query heads per kv head, d = 64, a 1,024-token context."""
    model = checkpoint.load(zoo.MODELS["kjv-grouped"].directory)[0]
    config = model.config
    assert config.groups == 1 and config.heads == 2 and config.d == 64 and config.context == 1024
    inputs, targets = tasks.Language().held_out(config, 1)
    exact, _ = tasks.evaluate(model, tasks.Language(), inputs, targets)
    window, _, _ = decoded_loss(model, inputs, targets, f"window:w1={config.w1},w2={config.w2}")
    assert window.item() == pytest.approx(exact.item(), rel=FLOAT32_ROUNDING)
