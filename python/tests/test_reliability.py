"""The Python surfaces hold the CLI's guarantees (docs/reliability.md): no NaN handed back where
`trikv attend` refuses, the CLI's bounds on every size, reserve checked before it allocates,
and a Python cache type that misbehaves (re-entry, bad bytes or cost, raising inside a study,
Ctrl-C) gets a one-line error, never a hang, a crash or a dead interpreter."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import trikv

from test_study import PairSketch

# Finite float32 inputs whose trilinear scores (q·k1·k2 summed, times 1/d) overflow float32.
HUGE = 1e15


def overflowing(n=3, heads=2, d=4):
    return [np.full((n, heads, d), HUGE, np.float32) for _ in range(5)]


def test_scores_that_overflow_raise_in_every_entry_point_as_in_the_cli():
    q, k1, k2, v1, v2 = overflowing()
    head_major = [np.ascontiguousarray(x.transpose(1, 0, 2)) for x in (q, k1, k2, v1, v2)]
    with pytest.raises(ValueError, match=r"^attend: output of head 0, token 0 is (NaN|infinite): the scores overflow float32"):
        trikv.attend(*head_major)
    with pytest.raises(ValueError, match=r"^attend: output of head 0, token 0 is (NaN|infinite): the scores overflow float32"):
        trikv.attend(*head_major, cache="factor")
    cache = trikv.Cache("factor", heads=2, d=4)
    cache.append(k1, k2, v1, v2)
    with pytest.raises(ValueError, match=r"^attend: cache 'factor:.*': output of query 0, head 0 is (NaN|infinite)"):
        cache.attend(q)
    # float64 holds these scores: the engine in float64 answers, finite.
    assert np.isfinite(trikv.attend(*(x.astype(np.float64) for x in head_major))).all()


@pytest.mark.parametrize("spec", ["factor", "window", "product"])
@pytest.mark.parametrize("size, message", [
    (dict(heads=2**62, d=8), r"^heads: 4611686018427387904 is outside 1 to 1024$"),
    (dict(heads=2, d=2**40), r"^d: 1099511627776 is outside 1 to 65536$"),
    (dict(heads=2, d=8, kv_heads=2**62), r"^kv_heads: 4611686018427387904 is outside 1 to 1024$"),
    (dict(heads=0, d=8), r"^heads: 0 is outside 1 to 1024$"),
    (dict(heads=2, d=8, scale=1e300), r"^scale: .* is beyond float32's range"),
    (dict(heads=2, d=8, k2_bias=float("nan")), r"^k2_bias: nan is not a finite float32$"),
])
def test_cache_sizes_have_the_clis_bounds(spec, size, message):
    with pytest.raises(ValueError, match=message):
        trikv.Cache(spec, **size)


@pytest.mark.parametrize("spec", ["factor", "window:w1=100000,w2=100000", "product"])
def test_reserve_is_checked_before_it_allocates_and_leaves_the_cache_usable(spec):
    cache = trikv.Cache(spec, heads=2, d=8)
    k = np.ones((2, 8), np.float32)
    cache.append(k, k, k, k)
    held = cache.bytes
    with pytest.raises(ValueError, match=r"^reserve: tokens: 4611686018427387904 is outside 0 to 1048576$"):
        cache.reserve(2**62)
    with pytest.raises(ValueError, match=r"^cost: tokens: 4611686018427387904 is outside 0 to 1048576$"):
        cache.cost(2**62)  # beyond the bound, the cost models' size products wrap
    cache.set_memory_limit(1 << 20)
    with pytest.raises(MemoryError, match="above the memory limit of 1048576 bytes"):
        cache.reserve(10**6)
    assert cache.bytes == held and len(cache) == 1
    assert np.isfinite(cache.attend(k)).all()


def test_reserve_beyond_physical_memory_is_refused_before_allocating():
    # 2^20 tokens of 64 heads of d = 1024: 2^59 bytes of pair rows.
    cache = trikv.Cache("product", heads=64, d=1024)
    with pytest.raises(ValueError, match=r"^reserve: cache 'product:.*' would hold \d+ bytes at 1048576 tokens, "
                                         r"more than this machine's \d+ bytes of memory$"):
        cache.reserve(2**20)
    assert cache.bytes == 0


class Reentrant(PairSketch):
    """Calls back into the trikv.Cache that drives it (a bug that used to deadlock)."""
    outer = None

    def attend(self, q):
        return Reentrant.outer.attend(q[0])


class BadBytes(PairSketch):
    value = "lots"

    @property
    def bytes(self):
        return BadBytes.value


class NanCost(PairSketch):
    def cost(self, tokens):
        return dict(super().cost(tokens), resident_bytes=float("nan"))


def test_misbehaving_python_caches_raise_one_line_errors():
    trikv.register("reentrant", Reentrant, params={"budget": 1})
    trikv.register("badbytes", BadBytes, params={"budget": 1})
    trikv.register("nancost", NanCost, params={"budget": 1})
    k = np.ones((2, 4), np.float32)

    Reentrant.outer = trikv.Cache("reentrant", heads=2, d=4)
    Reentrant.outer.append(k, k, k, k)
    with pytest.raises(RuntimeError, match=r"^trikv.Cache\('reentrant:budget=1'\): called again from inside one of "
                                           r"its own calls"):
        Reentrant.outer.attend(k)
    assert len(Reentrant.outer) == 1  # the lock was released: the cache still works
    Reentrant.outer.clear()
    assert len(Reentrant.outer) == 0

    for value, shown in [("lots", r"'lots' \(a str\)"), (-1, r"-1 \(a int\)"), (1.5, r"1.5 \(a float\)"),
                         (True, r"True \(a bool\)")]:
        BadBytes.value = value
        with pytest.raises(ValueError, match=rf"^badbytes:budget=1: bytes is {shown}; expected a whole number >= 0$"):
            trikv.Cache("badbytes", heads=2, d=4)

    nan = trikv.Cache("nancost", heads=2, d=4)
    with pytest.raises(ValueError, match=r"^nancost:budget=1: cost\(3\)\['resident_bytes'\] is nan; expected a finite "
                                         r"number >= 0$"):
        nan.cost(3)


class RaisesInStudy(PairSketch):
    """Fails inside attend, in the middle of a study."""

    def attend(self, q):
        raise RuntimeError("prototype bug")


def test_a_python_cache_raising_fails_its_point_and_the_study_goes_on(tmp_path):
    trikv.register("raisesinstudy", RaisesInStudy, params={"budget": 1})
    rows = trikv.run_study(dict(name="raising", caches=["raisesinstudy", "product"], n=[8], d=[4], warmup=0,
                                repetitions=1, measure_peaks=False, figures=[]), out=tmp_path)
    status = {r["cache"].split(":")[0]: (r["status"], r["reason"]) for r in rows}
    assert status["product"][0] == "ok"
    assert status["raisesinstudy"] == ("failed", "the cache threw: RuntimeError: prototype bug")
    assert json.loads((tmp_path / "results.json").read_text())["state"] == "complete"


def run_python(script, tmp_path):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=120, env=env)


def test_ctrl_c_in_run_study_raises_keyboard_interrupt_after_recording_it(tmp_path):
    # In a child: if the interrupt still ended the process (status 130), this test fails
    # instead of killing pytest.
    result = run_python("""
        import json, os, signal, sys
        import trikv
        from test_study import PairSketch

        class Interrupts(PairSketch):
            sent = False

            def append(self, k1, k2, v1, v2):
                if not Interrupts.sent:  # Ctrl-C once while the point runs (twice ends the process)
                    Interrupts.sent = True
                    os.kill(os.getpid(), signal.SIGINT)
                super().append(k1, k2, v1, v2)

        trikv.register("interrupts", Interrupts, params={"budget": 1})
        out = sys.argv[1]
        try:
            trikv.run_study(dict(name="ctrl-c", caches=["interrupts", "product"], n=[8], d=[4], warmup=0,
                                 repetitions=1, measure_peaks=False, figures=[]), out=out)
        except KeyboardInterrupt:
            print("KeyboardInterrupt", json.load(open(os.path.join(out, "results.json")))["state"])
            print("rows", len(open(os.path.join(out, "results.csv")).read().splitlines()) - 1)
        """, tmp_path)
    assert result.returncode == 0, result.stderr
    # The point being measured finished and was recorded; product was never started.
    assert result.stdout.split("\n")[:2] == ["KeyboardInterrupt interrupted", "rows 1"]


@pytest.mark.parametrize("sleep", [0.1, 0.2, 0.3])
def test_a_daemon_thread_inside_a_python_cache_at_exit_does_not_abort(tmp_path, sleep):
    # The main thread ends while the daemon sleeps inside the cache's attend; freeing two million
    # objects keeps the interpreter finalising when the daemon wakes and needs the GIL back
    # (before the fix: aborts and segfaults in 5 of 8 such runs, at 0.1 to 0.3 s).
    result = run_python(f"""
        import threading, time
        import numpy as np
        import trikv
        from test_study import PairSketch

        class Slow(PairSketch):
            def attend(self, q):
                time.sleep({sleep})
                return super().attend(q)

        trikv.register("slow", Slow, params={{"budget": 1}})
        cache = trikv.Cache("slow", heads=2, d=4)
        k = np.ones((2, 4), np.float32)
        cache.append(k, k, k, k)
        junk = {{i: str(i) for i in range(2_000_000)}}
        threading.Thread(target=lambda: cache.attend(k), daemon=True).start()
        time.sleep(0.05)
        """, tmp_path)
    assert "Fatal Python error" not in result.stderr and "terminate called" not in result.stderr
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("w1, w2", [(0, 4), (-1, 4), (4, 0), (2.5, 4), (True, 4)])
def test_simplicial_attention_refuses_windows_that_hold_no_pair(w1, w2):
    torch = pytest.importorskip("torch")
    from trikv.torch import SimplicialAttention, simplicial_attention
    name, value = ("w1", w1) if w2 == 4 else ("w2", w2)
    with pytest.raises(ValueError, match=rf"^{name}: {value!r} is not a whole number >= 1"):
        SimplicialAttention(w1=w1, w2=w2)
    x = [torch.randn(1, 3, 2, 4) for _ in range(5)]
    with pytest.raises(ValueError, match=rf"^{name}: "):
        simplicial_attention(*x, w1=w1, w2=w2)


def test_statistics_refuses_a_trace_holding_nan(tmp_path, capsys):
    from trikv.model import statistics
    from trikv.model.traces import MANIFEST, head_dir
    tokens, d = 16, 4
    rng = np.random.default_rng(0)
    for name in ("q", "k1", "k2", "v1", "v2"):
        x = rng.standard_normal((tokens, d)).astype(np.float32)
        if name == "k2":
            x[3, 1] = np.nan
        os.makedirs(head_dir(tmp_path, 0, 0), exist_ok=True)
        np.save(os.path.join(head_dir(tmp_path, 0, 0), f"{name}.npy"), x)
    manifest = {"tokens": tokens, "layers": [{"layer": 0, "heads": 1, "d": d, "scale": 0.25,
                                              "streams": ["k1", "k2", "q", "v1", "v2"], "window": {"w1": 4, "w2": 4}}]}
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    assert statistics.main(["--trace", str(tmp_path), "--tokens", "8"]) == 2
    err = capsys.readouterr().err
    assert err == ("--trace: layer 0 head 0: k2.npy holds NaN or infinity in its first 8 tokens; a trace must be "
                   "finite\n")
    # Before the NaN: the same trace is described.
    assert statistics.main(["--trace", str(tmp_path), "--tokens", "3"]) == 0


def test_run_study_refuses_a_fifo_in_place_of_the_study_file(tmp_path):
    fifo = tmp_path / "study.toml"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"study.toml': is not a regular file$"):
        trikv.run_study(fifo)  # a hang here fails under ctest's time limit


def test_a_python_cache_type_whose_text_holds_escape_sequences_is_refused():
    class Loud(PairSketch):
        """\x1b[2Jclears your terminal"""
    with pytest.raises(ValueError, match=r"description '\\x1b\[2Jclears your terminal \(Python; bytes self-reported\)' "
                                         r"holds control characters"):
        trikv.register("loud", Loud, params={"budget": 1})
    with pytest.raises(ValueError, match=r"invalid cache name 'lo\\x07ud'"):
        trikv.register("lo\x07ud", PairSketch, params={"budget": 1})
