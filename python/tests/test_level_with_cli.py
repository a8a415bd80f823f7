"""trikv from Python level with the CLI: attend's grouped heads, variants and bias; Python cache
types on grouped heads declaring their variants; one-line TypeErrors; torch half types;
logical_bytes; C++ plugins loaded into the process."""
import os

import numpy as np
import pytest

import trikv
from reference import decode
from sketches import KeepsEverything

VARIANTS = ["trilinear", "rank1", "strassen"]


def grouped(rng, heads, kv_heads, n, d):
    q = rng.standard_normal((heads, n, d))
    return [q] + [rng.standard_normal((kv_heads, n, d)) for _ in range(4)]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kv_heads", [1, 2])
def test_attend_infers_kv_heads_and_takes_variant_and_bias(variant, kv_heads):
    x = grouped(np.random.default_rng(21), 4, kv_heads, 6, 8)
    out = trikv.attend(*x, variant=variant, k2_bias="default", v2_bias=0.5)
    expected = decode(*x, 1 / 8, variant=variant, k2_bias=1 / 8, v2_bias=0.5)
    assert out.shape == (4, 6, 8) and out.dtype == np.float64  # through 'factor', cast back
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(trikv.attend(*x, kv_heads=kv_heads, variant=variant, k2_bias="default",
                                               v2_bias=0.5), out)


def test_attend_checks_kv_heads_and_grouped_shapes():
    x = grouped(np.random.default_rng(22), 4, 2, 5, 4)
    with pytest.raises(ValueError, match=r"^kv_heads: 1 differs from k1's 2 heads \(shape \(2, 5, 4\)\)$"):
        trikv.attend(*x, kv_heads=1)
    x[3] = x[3][:1]  # v1 with one head, the other keys two
    with pytest.raises(ValueError, match=r"^v1: shape \(1, 5, 4\) differs from q's \(4, 5, 4\) \(keys and values"):
        trikv.attend(*x)
    with pytest.raises(ValueError, match="variant=strassen"):
        trikv.attend(*grouped(np.random.default_rng(1), 2, 2, 3, 4), cache="product", variant="strassen")


@pytest.mark.parametrize("call, message", [
    (lambda x: trikv.attend(*x, variant=123), r"^variant: int 123 is not a str$"),
    (lambda x: trikv.attend(*x, cache=5), r"^cache: int 5 is not a str$"),
    (lambda x: trikv.attend(*x, scale="big"), r"^scale: str 'big' is not a number$"),
    (lambda x: trikv.attend(*x, kv_heads=1.5), r"^kv_heads: float 1.5 is not an int$"),
    (lambda x: trikv.attend(*x, k2_bias=[1]), r"^k2_bias: list \[1\] is not a number$"),
    (lambda x: trikv.attend(*x, colour="red"), r"^attend\(\): unexpected argument 'colour'"),
    (lambda x: trikv.Cache("factor", heads="8", d=4), r"^Cache\(\): heads: str '8' is not int$"),
    (lambda x: trikv.Cache(3, heads=8, d=4), r"^Cache\(\): spec: int 3 is not str$"),
    (lambda x: trikv.Cache("factor", heads=2, d=4).cost("many"), r"^Cache.cost\(\): tokens: str 'many' is not"),
])
def test_a_wrong_argument_type_is_one_short_line(call, message):
    x = [np.zeros((64, 64), np.float32) for _ in range(5)]  # pybind11 would print every element
    with pytest.raises(TypeError, match=message) as error:
        call(x)
    assert "\n" not in str(error.value) and len(str(error.value)) < 200


class UngroupedSketch(KeepsEverything):
    """An __init__ without kv_heads and variant: one kv head per query head, trilinear."""

    def __init__(self, heads, d, scale):
        super().__init__(heads, d, scale, heads, "trilinear")


@pytest.fixture(scope="module")
def python_types():
    names = {t["name"] for t in trikv.caches()}
    if "grouped-sketch" not in names:
        trikv.register("grouped-sketch", KeepsEverything, exact=True, variants=["trilinear", "rank1", "strassen"])
        trikv.register("trilinear-sketch", KeepsEverything, exact=True)
        trikv.register("ungrouped-sketch", UngroupedSketch, exact=True)
    return "grouped-sketch"


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_python_type_takes_grouped_heads_and_its_declared_variants(python_types, variant):
    x = grouped(np.random.default_rng(23), 4, 2, 5, 8)
    out = trikv.attend(*x, cache="grouped-sketch", variant=variant, k2_bias=0.25, v2_bias=1.0)
    expected = decode(*x, 1 / 8, variant=variant, k2_bias=0.25, v2_bias=1.0)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_undeclared_variants_and_grouping_are_refused_in_one_line(python_types):
    with pytest.raises(ValueError, match=r"^.*trilinear-sketch.*variant=rank1[^\n]*$"):
        trikv.Cache("trilinear-sketch", heads=2, d=4, variant="rank1")
    with pytest.raises(ValueError, match=r"^cache 'ungrouped-sketch': kv_heads=1 differs from heads=2; this Python "
                                         r"cache type's __init__ takes no kv_heads$"):
        trikv.Cache("ungrouped-sketch", heads=2, d=4, kv_heads=1)
    with pytest.raises(ValueError, match=r"^variants: UngroupedSketch.__init__ takes no kv_heads and variant"):
        trikv.register("never", UngroupedSketch, variants=["rank1"])
    with pytest.raises(ValueError, match="cubic"):
        trikv.register("never", KeepsEverything, variants=["cubic"])
    assert "never" not in {t["name"] for t in trikv.caches()}


def torch_or_skip():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
def test_torch_half_tensors_are_converted_once(dtype_name):
    torch = torch_or_skip()
    dtype = getattr(torch, dtype_name)
    x = [torch.from_numpy(a).to(dtype) for a in grouped(np.random.default_rng(24), 2, 2, 5, 8)]
    widened = [t.float().numpy().astype(np.float64) for t in x]
    before = trikv._core._converted_inputs()
    out = trikv.attend(*x, cache="factor")
    assert trikv._core._converted_inputs() - before == 5  # each input once
    np.testing.assert_allclose(np.asarray(out, np.float64), decode(*widened, 1 / 8), rtol=1e-2, atol=1e-3)
    cache = trikv.Cache("factor", heads=2, d=8)
    cache.append(*(t[:, 0] for t in x[1:]))
    assert cache.attend(x[0][:, 0]).dtype == np.float32


def test_torch_tensors_that_cannot_be_read_say_why():
    torch = torch_or_skip()
    x = [np.zeros((3, 4), np.float32) for _ in range(5)]
    x[0] = torch.zeros((3, 4), dtype=torch.complex64)
    with pytest.raises(ValueError, match=r"^q: dtype complex64 is not floating-point"):
        trikv.attend(*x)
    x[0] = torch.zeros((3, 4), dtype=torch.bfloat16, requires_grad=True)
    with pytest.raises(ValueError, match=r"^q: a tensor that requires grad; detach\(\) it first$"):
        trikv.attend(*x)


def test_logical_bytes_leave_out_unfilled_chunks_and_match_a_python_prototype(python_types):
    n, heads, d = 100, 2, 8
    rng = np.random.default_rng(25)
    k = [rng.standard_normal((n, heads, d)).astype(np.float32) for _ in range(4)]
    factor, sketch = trikv.Cache("factor", heads=heads, d=d), trikv.Cache("grouped-sketch", heads=heads, d=d)
    for cache in (factor, sketch):
        cache.append(*k)
    assert factor.logical_bytes == 4 * n * heads * d * 4 < factor.bytes  # 256-row chunks held
    # The prototype keeps what its C++ port keeps: the same data, whatever the chunks.
    assert sketch.logical_bytes == sketch.bytes == factor.logical_bytes
    factor.clear()
    assert factor.logical_bytes == 0


class Chunked(KeepsEverything):
    """Reports room for 8 tokens at a time, as a chunked C++ store holds it."""

    @property
    def bytes(self):
        per_token = 4 * self.kv_heads * self.d * 4
        return -(-len(self.rows) // 8) * 8 * per_token

    @property
    def logical_bytes(self):
        return super().bytes


class Overclaiming(KeepsEverything):
    """Claims more data than it holds (a bug the trampoline must catch)."""

    @property
    def logical_bytes(self):
        return self.bytes + 1


def test_a_python_type_may_report_logical_bytes_apart_from_bytes():
    if "chunked-sketch" not in {t["name"] for t in trikv.caches()}:
        trikv.register("chunked-sketch", Chunked, exact=True)
        trikv.register("overclaiming-sketch", Overclaiming, exact=True)
    cache = trikv.Cache("chunked-sketch", heads=2, d=4)
    k = np.ones((3, 2, 4), np.float32)
    cache.append(k, k, k, k)
    assert (cache.bytes, cache.logical_bytes) == (8 * 128, 3 * 128)
    cache.clear()
    assert (cache.bytes, cache.logical_bytes) == (0, 0)
    with pytest.raises(ValueError, match=r"^overclaiming-sketch: logical_bytes 1 exceeds bytes 0$"):
        trikv.Cache("overclaiming-sketch", heads=2, d=4)


def test_a_study_records_logical_bytes(tmp_path):
    study = {"name": "logical", "caches": ["factor"], "n": [16], "d": [8], "heads": [1], "warmup": 0,
             "repetitions": 1, "measure_peaks": False, "figures": []}
    row, = trikv.run_study(study, out=tmp_path / "logical", threads=1)
    assert row["logical_bytes"] == 4 * 17 * 8 * 4 < row["bytes"]  # 16 tokens plus the timed step


def test_load_plugin_brings_a_cpp_type_beside_python_ones():
    plugin = os.environ.get("TRIKV_TEST_PLUGIN")
    if not plugin:
        pytest.skip("TRIKV_TEST_PLUGIN is set by ctest (python/CMakeLists.txt)")
    with pytest.raises(ValueError, match=r"^load_plugin: '/nonexistent.so' is not a file$"):
        trikv.load_plugin("/nonexistent.so")
    added = trikv.load_plugin(plugin)
    assert added in (["consumer-factor"], [])  # [] if another test loaded it first
    assert trikv.load_plugin(plugin) == []     # a library is loaded once
    x = grouped(np.random.default_rng(26), 2, 2, 6, 8)
    np.testing.assert_allclose(trikv.attend(*x, cache="consumer-factor"), decode(*x, 1 / 8), rtol=1e-4, atol=1e-5)


def test_run_study_reads_a_study_files_data_relative_to_the_file(tmp_path):
    (tmp_path / "studies" / "data").mkdir(parents=True)
    rng = np.random.default_rng(27)
    for name in ("q", "k1", "k2", "v1", "v2"):
        np.save(tmp_path / "studies" / "data" / f"{name}.npy", rng.standard_normal((8, 4)).astype(np.float32))
    study = tmp_path / "studies" / "relative.toml"
    study.write_text('name = "relative"\ncaches = ["factor"]\nn = [4]\nd = [4]\nwarmup = 1\nrepetitions = 1\n'
                     'measure_peaks = false\nfigures = []\n[data]\nkind = "npy"\ndir = "data"\n')
    assert not os.path.exists("data")  # the tests do not run from the study's folder
    row, = trikv.run_study(study, out=tmp_path / "out", threads=1)
    assert row["status"] == "ok" and row["data"].startswith("npy")
    study.write_text(study.read_text().replace('dir = "data"', 'dir = "nowhere"'))
    with pytest.raises(ValueError, match="nowhere': the directory does not exist"):
        trikv.run_study(study, out=tmp_path / "out2", threads=1)
