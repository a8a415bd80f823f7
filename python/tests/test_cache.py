import threading

import numpy as np
import pytest

import trikv
from reference import decode, head_major, tokens

EXACT = ["factor", "product", "reference"]


def scale_of(d):
    return 1.0 / d


@pytest.mark.parametrize("spec", EXACT)
def test_token_by_token_decode_matches_the_float64_reference(spec):
    rng = np.random.default_rng(1)
    q, k1, k2, v1, v2 = tokens(rng, 9, 2, 8)
    cache = trikv.Cache(spec, heads=2, d=8)
    out = np.zeros_like(q)
    for t in range(9):
        cache.append(k1[t], k2[t], v1[t], v2[t])
        out[t] = cache.attend(q[t])
    expected = decode(*(head_major(x) for x in (q, k1, k2, v1, v2)), scale_of(8))
    np.testing.assert_allclose(head_major(out), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("spec, variant", [
    ("factor", "trilinear"), ("factor", "rank1"), ("factor", "strassen"), ("pair-logits", "strassen"),
    ("reference", "rank1"), ("window:w1=16,w2=16", "strassen"),
])
@pytest.mark.parametrize("kv_heads", [1, 2, 4])
def test_grouped_heads_variants_and_bias_match_the_float64_reference(spec, variant, kv_heads):
    rng = np.random.default_rng(3)
    n, heads, d = 7, 4, 8
    q = rng.standard_normal((n, heads, d)).astype(np.float32)
    k1, k2, v1, v2 = (rng.standard_normal((n, kv_heads, d)).astype(np.float32) for _ in range(4))
    cache = trikv.Cache(spec, heads=heads, d=d, kv_heads=kv_heads, variant=variant, k2_bias=1 / d, v2_bias=1.0)
    assert (cache.kv_heads, cache.variant) == (kv_heads, variant)
    out = np.zeros_like(q)
    for t in range(n):
        cache.append(k1[t], k2[t], v1[t], v2[t])
        out[t] = cache.attend(q[t])
    expected = decode(*(head_major(x) for x in (q, k1, k2, v1, v2)), scale_of(d), variant=variant,
                      k2_bias=1 / d, v2_bias=1.0)
    np.testing.assert_allclose(head_major(out), expected, rtol=1e-4, atol=1e-5)


def test_grouped_shapes_and_unsupported_variants_raise_value_errors():
    with pytest.raises(ValueError, match="kv_heads=3 must divide heads=4"):
        trikv.Cache("factor", heads=4, d=8, kv_heads=3)
    with pytest.raises(ValueError, match="variant=strassen"):
        trikv.Cache("product", heads=4, d=8, variant="strassen")
    with pytest.raises(ValueError, match="variant=cubic"):
        trikv.Cache("factor", heads=4, d=8, variant="cubic")
    cache = trikv.Cache("factor", heads=4, d=8, kv_heads=2)
    with pytest.raises(ValueError, match=r"expected \[kv_heads, d\] = \[2, 8\]"):
        cache.append(*(np.zeros((4, 8), np.float32) for _ in range(4)))


def test_a_block_append_and_block_attend_see_every_stored_pair():
    rng = np.random.default_rng(2)
    q, k1, k2, v1, v2 = tokens(rng, 6, 3, 4)
    cache = trikv.Cache("factor", heads=3, d=4, scale=0.3)
    cache.append(k1, k2, v1, v2)
    out = cache.attend(q)
    assert out.shape == (6, 3, 4) and out.dtype == np.float32
    # Every query sees all six tokens: the reference's last step, with each query in its place.
    for r in range(6):
        qs = np.repeat(q[r:r + 1], 6, axis=0)
        expected = decode(*(head_major(x) for x in (qs, k1, k2, v1, v2)), 0.3)[:, -1]
        np.testing.assert_allclose(out[r], expected, rtol=1e-4, atol=1e-5)


def test_window_cache_attends_its_windows():
    rng = np.random.default_rng(3)
    q, k1, k2, v1, v2 = tokens(rng, 10, 1, 4)
    cache = trikv.Cache("window:w1=3,w2=5", heads=1, d=4)
    out = np.zeros_like(q)
    for t in range(10):
        cache.append(k1[t], k2[t], v1[t], v2[t])
        out[t] = cache.attend(q[t])
    expected = decode(*(head_major(x) for x in (q, k1, k2, v1, v2)), 0.25, w1=3, w2=5)
    np.testing.assert_allclose(head_major(out), expected, rtol=1e-4, atol=1e-5)


def test_len_clear_reserve_bytes_spec_and_cost():
    cache = trikv.Cache("factor", heads=2, d=4)
    assert len(cache) == 0 and cache.spec == "factor:strategy=fused,dtype=f32"
    assert (cache.heads, cache.d, cache.scale) == (2, 4, 0.25)
    cache.reserve(100)
    reserved = cache.bytes
    assert reserved > 0
    k = np.ones((5, 2, 4), np.float32)
    cache.append(k, k, k, k)
    assert len(cache) == 5 and cache.bytes == reserved  # reserved storage takes the tokens
    cache.attend(k[0])
    assert cache.transient_peak_bytes > 0
    cost = cache.cost(5)
    assert set(cost) == {"resident_bytes", "transient_bytes", "flops", "bytes_moved"}
    assert cache.cost()["flops"] == cost["flops"] > 0
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0
    assert "factor" in repr(cache)


def test_caches_lists_types_with_their_parameters():
    types = {t["name"]: t for t in trikv.caches()}
    assert {"factor", "product", "window"} <= set(types)
    assert types["factor"]["exact"] and not types["window"]["exact"]
    assert {p["name"] for p in types["window"]["params"]} == {"w1", "w2"}
    assert "Cache" in trikv.Cache.__doc__ and "append" in trikv.Cache.append.__doc__


def test_contiguous_float32_is_read_in_place_and_other_inputs_are_converted_once():
    cache = trikv.Cache("factor", heads=2, d=4)
    k = np.ones((3, 2, 4), np.float32)
    before = trikv._core._converted_inputs()
    cache.append(k, k, k, k)
    cache.attend(k)
    assert trikv._core._converted_inputs() == before
    cache.append(k.astype(np.float64), k, k[:, :, ::-1], k)  # a float64 and a strided view
    assert trikv._core._converted_inputs() == before + 2


def test_torch_tensors_are_read_in_place():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    q, k1, k2, v1, v2 = tokens(rng, 4, 2, 4)
    cache_np, cache_torch = trikv.Cache("factor", 2, 4), trikv.Cache("factor", 2, 4)
    before = trikv._core._converted_inputs()
    cache_torch.append(*(torch.from_numpy(x) for x in (k1, k2, v1, v2)))
    out_torch = cache_torch.attend(torch.from_numpy(q))
    assert trikv._core._converted_inputs() == before
    cache_np.append(k1, k2, v1, v2)
    np.testing.assert_array_equal(out_torch, cache_np.attend(q))
    with pytest.raises(ValueError, match=r"^q: a tensor that requires grad; detach\(\) it first$"):
        cache_np.attend(torch.from_numpy(q).requires_grad_(True))


@pytest.mark.parametrize("bad, message", [
    (np.ones((2, 3), np.float32), "k1: shape (2, 3) does not match the cache; expected [kv_heads, d] = [2, 4]"),
    (np.ones((1, 1, 2, 4), np.float32), "k1: shape (1, 1, 2, 4) has 4 dimensions"),
    (np.ones((2, 4), np.int64), "k1: dtype int64 is not floating-point; expected float32 or float64"),
    (np.full((2, 4), np.inf, np.float32), "k1: element 0 is inf; inputs must be finite"),
    ("text", "k1: dtype str128 is not floating-point"),
    ([[1.0, 2.0], [3.0]], "k1: list is not an array"),  # ragged: NumPy cannot view it
])
def test_bad_inputs_raise_one_line_value_errors(bad, message):
    cache = trikv.Cache("factor", heads=2, d=4)
    ok = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError) as error:
        cache.append(bad, ok, ok, ok)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert len(cache) == 0


def test_mismatched_streams_and_bad_specs_raise_value_errors():
    cache = trikv.Cache("factor", heads=2, d=4)
    ok = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError, match=r"v1: shape \(3, 2, 4\) differs from k1's \(2, 4\)"):
        cache.append(ok, ok, np.ones((3, 2, 4), np.float32), ok)
    with pytest.raises(ValueError, match="empty"):
        cache.attend(ok)
    with pytest.raises(ValueError, match="nosuch"):
        trikv.Cache("nosuch", 1, 4)
    with pytest.raises(ValueError, match="d: 0"):
        trikv.Cache("factor", 1, 0)


def test_the_memory_limit_raises_memory_error_and_keeps_the_cache():
    cache = trikv.Cache("factor", heads=1, d=4)
    k = np.ones((1, 4), np.float32)
    cache.append(k, k, k, k)
    cache.set_memory_limit(int(cache.cost(1)["resident_bytes"]))
    with pytest.raises(MemoryError, match="above the memory limit"):
        cache.append(np.ones((10000, 1, 4), np.float32), *([np.ones((10000, 1, 4), np.float32)] * 3))
    assert len(cache) == 1


def test_two_threads_on_two_caches_give_the_single_thread_results():
    rng = np.random.default_rng(5)
    streams = [tokens(rng, 300, 2, 16) for _ in range(2)]

    def run(q, k1, k2, v1, v2):
        cache = trikv.Cache("factor", heads=2, d=16)
        out = np.zeros_like(q)
        for t in range(len(q)):
            cache.append(k1[t], k2[t], v1[t], v2[t])
            out[t] = cache.attend(q[t])
        return out

    alone = [run(*s) for s in streams]
    together = [None, None]

    def worker(i):
        together[i] = run(*streams[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, together):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_repr_of_a_cache_whose_construction_failed_does_not_crash():
    # Tracebacks (pytest's) repr the arguments of a failed __init__: a segfault before.
    unconstructed = trikv.Cache.__new__(trikv.Cache)
    assert repr(unconstructed) == "trikv.Cache(<not constructed>)"
