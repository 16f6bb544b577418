"""The KL measured inside the sweeps (``prompt_sweep(kl=True)``, ``choice_sweep(kl=True)``) equals a direct full
computation -- one prompt, one λ, one unpadded forward, ``log_softmax`` of the steered and unsteered logits, the KL
summed over the vocabulary -- on a tiny random Llama in float64 (padded multi-prompt groups included)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch: pip install 'steering-bounds[validation]'")
pytest.importorskip("transformers", reason="needs transformers: pip install 'steering-bounds[validation]'")

from tests._tiny import tiny_llama  # noqa: E402
from validation.hooks import steer  # noqa: E402
from validation.sweep import PromptSweep, choice_sweep, kl_reference, prompt_sweep  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

D = 32
PROMPTS = [[5, 9, 17, 33, 64, 70], [8, 12, 99], [40, 41, 42, 43, 44], [7], [3, 4, 5, 6, 7, 8, 9, 10, 11]]
LAM = [1.5, -4.0, 0.0, 6.0, 0.5]  # unsorted; 0 not first; the smallest positive λ (0.5) is last
CONTEXTS = [[5, 9, 17], [8], [40, 41, 42, 43, 44, 45], [60, 61]]
CONTINUATIONS = [
    [[20], [21, 22, 23]],
    [[30, 31, 32, 33], [34]],
    [[50], [51, 52]],
    [[70, 71], [72, 73, 74, 75, 76]],
]
TOL = 1e-6


@pytest.fixture(scope="module")
def model(one_thread):
    m = tiny_llama(seed=0, dtype=torch.float64)
    with torch.no_grad():
        m(torch.tensor([[5, 6]]))
    return m


@pytest.fixture(scope="module")
def vecs():
    g = torch.Generator().manual_seed(123)
    return {1: 3.0 * torch.randn(D, generator=g, dtype=torch.float64), 2: torch.randn(D, generator=g).double()}


def _direct(model, vecs, ids, lam):
    """Unpadded forward of one sequence under ``steer``: full log-probabilities at every position and the final
    norm's output at the last position."""
    post = []
    handle = model.model.norm.register_forward_hook(lambda m, a, o: post.append(o[0, -1].detach().clone()))
    try:
        with torch.no_grad(), steer(model, vecs, float(lam)):
            logits = model(torch.tensor([ids])).logits[0]
    finally:
        handle.remove()
    return torch.log_softmax(logits.double(), -1), post[0]


def _kl(lp, lp0):
    return float(torch.sum(torch.exp(lp) * (lp - lp0)))


@pytest.fixture(scope="module")
def reference(model, vecs):
    zero, ref = LAM.index(0.0), kl_reference(np.array(LAM))
    kl, var, rng = np.zeros((len(PROMPTS), len(LAM))), [], []
    W = model.get_output_embeddings().weight.detach().double()
    for i, p in enumerate(PROMPTS):
        runs = [_direct(model, vecs, p, lam) for lam in LAM]
        kl[i] = [_kl(lp[-1], runs[zero][0][-1]) for lp, _ in runs]
        delta = runs[ref][1] - runs[zero][1]
        z = W @ (delta / delta.norm())
        p0 = torch.exp(runs[zero][0][-1])
        mean = torch.sum(p0 * z)
        var.append(float(torch.sum(p0 * (z - mean) ** 2)))
        rng.append(float(z.max() - z.min()))
    return kl, np.array(var), np.array(rng)


def test_kl_reference_is_the_smallest_positive_lambda():
    assert kl_reference(np.array(LAM)) == 4
    assert kl_reference(np.array([-2.0, -1.0, 0.0])) == 0  # no λ > 0: the first λ != 0


@pytest.mark.parametrize("batch_size", [5, 15, 100])  # 1, 3, all prompts per forward (padded groups)
def test_prompt_sweep_kl_equals_direct_computation(model, vecs, reference, batch_size):
    kl, var, rng = reference
    s = prompt_sweep(model, PROMPTS, vecs, LAM, batch_size=batch_size, pad_id=0, kl=True)
    assert s.kl.shape == (len(PROMPTS), len(LAM)) and s.var_z.shape == s.z_range.shape == (len(PROMPTS),)
    np.testing.assert_allclose(s.kl, kl, atol=TOL, rtol=0)
    assert np.all(s.kl[:, LAM.index(0.0)] == 0.0)  # KL(P_0 || P_0) is exactly 0
    assert kl[:, LAM.index(6.0)].min() > 1e-3  # the comparison is not between zeros
    np.testing.assert_allclose(s.var_z, var, rtol=1e-6, atol=0)  # δ is recorded in float32
    np.testing.assert_allclose(s.z_range, rng, rtol=1e-6, atol=0)
    back = PromptSweep.from_arrays(s.arrays())
    np.testing.assert_array_equal(back.kl, s.kl)
    np.testing.assert_array_equal(back.var_z, s.var_z)


def test_prompt_sweep_without_kl_keeps_its_arrays():
    s = PromptSweep(*(np.zeros(1) for _ in range(7)))
    assert set(s.arrays()) == {"lam", "post", "pre", "ids", "logprobs", "top_ids", "top_logprobs"}
    assert PromptSweep.from_arrays(s.arrays()).kl is None


@pytest.mark.parametrize("batch_size", [10, 1000])  # one item, all items per forward (G * C = 10)
def test_choice_sweep_kl_equals_direct_computation(model, vecs, batch_size):
    zero = LAM.index(0.0)
    sums, _, kl = choice_sweep(model, CONTEXTS, CONTINUATIONS, vecs, LAM, batch_size=batch_size, pad_id=0, kl=True)
    plain, _ = choice_sweep(model, CONTEXTS, CONTINUATIONS, vecs, LAM, batch_size=batch_size, pad_id=0)
    np.testing.assert_array_equal(sums, plain)
    for i, (ctx, conts) in enumerate(zip(CONTEXTS, CONTINUATIONS, strict=True)):
        for c, cont in enumerate(conts):
            lps = [_direct(model, vecs, ctx + cont, lam)[0] for lam in LAM]
            rows = range(len(ctx) - 1, len(ctx) + len(cont) - 1)  # position t predicts token t + 1
            for g in range(len(LAM)):
                per_token = [_kl(lps[g][t], lps[zero][t]) for t in rows]
                assert kl["kl_continuation"][i, g, c] == pytest.approx(np.mean(per_token), abs=TOL)
                if c == 0:
                    assert kl["kl_context"][i, g] == pytest.approx(per_token[0], abs=TOL)
    assert np.all(kl["kl_continuation"][:, zero] == 0.0) and np.all(kl["kl_context"][:, zero] == 0.0)
    assert kl["kl_continuation"][:, LAM.index(6.0)].min() > 1e-3
