import numpy as np
import pytest

torch = pytest.importorskip("torch")
from trikv.torch import SimplicialAttention  # noqa: E402

from reference import decode  # noqa: E402


def inputs(batch, seq, heads, d, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, seq, heads, d, generator=g) for _ in range(5)]


def reference(x, w1, w2, scale, **semantics):
    """[batch, seq, heads, d] through the float64 loops, one batch element at a time."""
    heads_first = [a.detach().double().numpy().transpose(0, 2, 1, 3) for a in x]
    out = np.stack([decode(*(a[b] for a in heads_first), scale, w1=w1, w2=w2, **semantics)
                    for b in range(x[0].shape[0])])
    return out.transpose(0, 2, 1, 3)


def grouped_inputs(batch, seq, heads, kv_heads, d, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, seq, heads, d, generator=g)] + \
        [torch.randn(batch, seq, kv_heads, d, generator=g) for _ in range(4)]


@pytest.mark.parametrize("variant", ["trilinear", "rank1", "strassen"])
@pytest.mark.parametrize("kv_heads", [1, 2])
def test_grouped_variants_with_bias_train_and_decode_like_the_float64_reference(variant, kv_heads):
    batch, seq, heads, d, prompt = 2, 8, 4, 4, 3
    semantics = dict(variant=variant, k2_bias=1 / d, v2_bias=1.0)
    x = grouped_inputs(batch, seq, heads, kv_heads, d, seed=5)
    attention = SimplicialAttention(w1=3, w2=5, **semantics)
    trained = attention(*x)
    np.testing.assert_allclose(trained.numpy(), reference(x, 3, 5, 0.5, **semantics), rtol=1e-4, atol=1e-5)
    cache = attention.new_cache("window:w1=3,w2=5", batch, heads, d, kv_heads=kv_heads)
    prefilled = attention(*(a[:, :prompt] for a in x), cache=cache)
    decoded = [attention(*(a[:, t:t + 1] for a in x), cache=cache) for t in range(prompt, seq)]
    torch.testing.assert_close(torch.cat([prefilled] + decoded, dim=1), trained, rtol=1e-4, atol=1e-5)


def test_training_path_matches_the_float64_reference_and_has_gradients():
    x = inputs(2, 9, 2, 4, seed=0)
    x[0].requires_grad_(True)
    out = SimplicialAttention(w1=3, w2=5)(*x)
    np.testing.assert_allclose(out.detach().numpy(), reference(x, 3, 5, 0.5), rtol=1e-4, atol=1e-5)
    out.sum().backward()
    assert x[0].grad is not None and torch.isfinite(x[0].grad).all()


@pytest.mark.parametrize("w1, w2, spec", [
    (3, 5, "window:w1=3,w2=5"),
    (16, 16, "factor"),      # windows longer than the sequence: every pair, an exact cache
    (16, 16, "product"),
])
def test_prefill_then_decode_equals_the_training_path(w1, w2, spec):
    batch, seq, heads, d, prompt = 2, 12, 2, 8, 5
    x = inputs(batch, seq, heads, d, seed=1)
    attention = SimplicialAttention(w1=w1, w2=w2)
    trained = attention(*x)
    cache = attention.new_cache(spec, batch, heads, d)
    prefilled = attention(*(a[:, :prompt] for a in x), cache=cache)
    decoded = [attention(*(a[:, t:t + 1] for a in x), cache=cache) for t in range(prompt, seq)]
    generated = torch.cat([prefilled] + decoded, dim=1)
    assert len(cache) == seq and cache.bytes > 0
    torch.testing.assert_close(generated, trained, rtol=1e-4, atol=1e-5)
