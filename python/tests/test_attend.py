import numpy as np
import pytest

import trikv
from reference import decode


def streams(rng, shape, dtype):
    return [rng.standard_normal(shape).astype(dtype) for _ in range(5)]


@pytest.mark.parametrize("shape", [(7, 4), (2, 7, 4)])
def test_float64_stays_float64_and_matches_the_reference(shape):
    x = streams(np.random.default_rng(6), shape, np.float64)
    out = trikv.attend(*x, scale=0.4)
    assert out.dtype == np.float64 and out.shape == shape
    expected = decode(*(a.reshape((-1,) + shape[-2:]) for a in x), 0.4).reshape(shape)
    np.testing.assert_allclose(out, expected, rtol=1e-11, atol=1e-12)


def test_float32_and_the_default_scale():
    x = streams(np.random.default_rng(7), (2, 6, 8), np.float32)
    out = trikv.attend(*x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, decode(*x, 1 / 8), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_through_a_cache_the_output_keeps_q_dtype(dtype):
    x = streams(np.random.default_rng(8), (3, 8, 4), dtype)
    out = trikv.attend(*x, cache="window:w1=2,w2=3")
    assert out.dtype == dtype
    np.testing.assert_allclose(out, decode(*x, 1 / 4, w1=2, w2=3), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("change, message", [
    (lambda x: x.reshape(1, 1, 6, 4), r"^k2: shape \(1, 1, 6, 4\) has 4 dimensions; expected \[n, d\] or \[h, n, d\]$"),
    (lambda x: x[:0], r"^k2: shape \(0, 4\) is empty"),
    (lambda x: x.astype(np.float64), r"^k2: dtype float64 differs from q's float32; all inputs must share one dtype$"),
    (lambda x: x[:5], r"^k2: shape \(5, 4\) differs from q's \(6, 4\) \(keys and values may have fewer heads"),
    (lambda x: np.where(np.arange(24).reshape(6, 4) == 5, np.nan, x).astype(np.float32),
     r"^k2: element 5 is nan; inputs must be finite$"),
])
def test_bad_inputs_give_the_cli_messages(change, message):
    q, k1, k2, v1, v2 = streams(np.random.default_rng(9), (6, 4), np.float32)
    with pytest.raises(ValueError, match=message):
        trikv.attend(q, k1, change(k2), v1, v2)


def test_bad_scale_and_spec():
    x = streams(np.random.default_rng(10), (3, 4), np.float32)
    with pytest.raises(ValueError, match="scale: inf is not finite"):
        trikv.attend(*x, scale=float("inf"))
    with pytest.raises(ValueError, match="nosuch"):
        trikv.attend(*x, cache="nosuch")
