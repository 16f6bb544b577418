"""The Monte-Carlo engine: exact per-draw formulas, standard errors, numpy/torch agreement, bounded chunks."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy import stats

import bounds
from bounds._montecarlo import (
    Estimate,
    as_generator,
    frequency,
    mean_estimate,
    noise_law,
    sample_noise,
    sample_projections,
)
from bounds.helpfulness import (
    helpfulness_at_infinity,
    helpfulness_event,
    helpfulness_jensen,
    helpfulness_quantities,
    helpfulness_upper,
)
from bounds.simulate import (
    corollary_3_frequency,
    evaluate_draws,
    event_probability,
    expected_helpfulness,
    resolve_device,
    simulate_helpfulness,
    theorem_2_frequency,
)
from bounds.synthetic import SyntheticQuery, synthetic_query

LAM = np.array([-1.5, -0.4, -0.05, 0.0, 0.05, 0.2, 0.5, 1.0, 3.0])
GRID = np.array([0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2])


def _query(k: int = 6, shape: str = "zipf", eps: float = 0.1, seed: int = 0) -> SyntheticQuery:
    return synthetic_query(k, 0.35, shape, seed, tail_mass=eps, tail_z=np.linspace(-1, 1, 8) if eps else 0.0,
                           tail_size=8 if eps else None)  # fmt: skip


def _combined(a, b, i=None) -> float:
    """4 combined standard errors of two independent estimates (at grid point i)."""
    sa, sb = (a.se, b.se) if i is None else (a.se[i], b.se[i])
    return 4.0 * math.hypot(float(sa), float(sb))


# =================================================================================================================
# The per-draw core against the package's reference implementations
# =================================================================================================================
def test_evaluate_draws_matches_reference_functions() -> None:
    """Every per-draw quantity equals what bounds.steered / bounds.helpfulness compute one realisation at a time."""
    q = _query()
    rng = np.random.default_rng(1)
    z = rng.standard_normal((40, q.V)) * 1.3
    r = evaluate_draws(q, z, LAM, alpha=0.8, sigma=1.3)
    for g, lam in enumerate(LAM):
        t = 0.8 * lam
        zz = np.sign(lam or 1.0) * z
        H = bounds.steered_helpfulness(q.p, zz, abs(t), q.answer)
        np.testing.assert_allclose(r.log_H[:, g], np.log(H), rtol=1e-12, atol=1e-13)
        hq = helpfulness_quantities(q.p, z, q.answer, q.top, lam_norm=t if t else 0.0, sigma=1.3)
        jensen = helpfulness_jensen(hq.p0, hq.P_plus, hq.P_minus, hq.X_plus, hq.X_minus)
        np.testing.assert_allclose(r.log_jensen[:, g], np.log(jensen), rtol=1e-12, atol=1e-13)
        six = helpfulness_upper(hq.p0, hq.gamma, 0.8, hq.beta, 1.3, lam)
        np.testing.assert_allclose(r.log_bound_6[:, g], np.log(six), rtol=1e-12, atol=1e-13)
        ev = helpfulness_event(hq.p0, q.top_mass, hq.P_plus, hq.X_plus)
        np.testing.assert_allclose(r.log_event[:, g], np.log(ev), rtol=1e-12, atol=1e-13)
        np.testing.assert_array_equal(r.on_event[:, g], hq.on_event)
        np.testing.assert_allclose(r.gamma, hq.gamma, rtol=1e-12)
        np.testing.assert_allclose(r.beta, hq.beta, rtol=1e-12)
    pos = helpfulness_quantities(q.p, z, q.answer, q.top, 1.0)
    np.testing.assert_array_equal(r.both_nonempty, pos.both_nonempty)
    np.testing.assert_array_equal(r.b_plus_empty, pos.P_plus == 0)
    np.testing.assert_allclose(r.L, pos.L, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(r.limit, helpfulness_at_infinity(q.p, z, q.answer))
    # the verdicts
    assert r.holds_jensen.all()
    on = r.on_event
    assert np.all(r.log_H[on] <= r.log_event[on] + 1e-9)


def test_limit_handles_ties_and_zero_mass_tokens() -> None:
    p = np.array([0.3, 0.3, 0.2, 0.2, 0.0])
    q = SyntheticQuery(p=p, answer=0, top=np.array([True, True, True, True, False]), fixed_z=np.zeros(5))
    z = np.array([[1.0, 1.0, 0.0, 0.0, 9.0], [2.0, 1.0, 0.0, 0.0, 9.0], [0.0, 1.0, 0.0, 0.0, 9.0]])
    r = evaluate_draws(q, z, [0.0, 1.0])
    np.testing.assert_allclose(r.limit, [0.5, 1.0, 0.0])  # the zero-mass token at z = 9 plays no role


def test_simulation_agrees_with_the_existing_monte_carlo_functions() -> None:
    """Same seed, same draws: exactly the frequencies of theorem_2_frequency / event_probability and the means of
    expected_helpfulness (the engine supersedes them without changing their numbers)."""
    q = _query()
    law = noise_law("laplace")
    lam = np.linspace(0.0, 2.0, 9)
    sim = simulate_helpfulness(q, law, lam, 5, n_draws=3000, sigma=0.7, alpha=1.3)
    old = theorem_2_frequency(q.p, q.answer, q.top, law, lam, 5, alpha=1.3, sigma=0.7, fixed_z=q.fixed_z,
                              n_draws=3000, chunk=10_000)  # fmt: skip
    assert sim.theorem_2 == old.holds
    assert sim.both_nonempty == old.both_nonempty
    assert sim.theorem_2_given_both == old.holds_given_both
    ev = event_probability(q.p, q.answer, q.top, law, 5, sigma=0.7, fixed_z=q.fixed_z, n_draws=3000)
    assert sim.event == ev
    full = simulate_helpfulness(q, law, lam, 9, n_draws=2000, noise="all", sigma=0.7, alpha=1.3)
    e = expected_helpfulness(q.p, q.answer, law, lam, 9, alpha=1.3, sigma=0.7, n_draws=2000)
    np.testing.assert_allclose(full.mean_H.value, e.value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(full.mean_H.se, e.se, rtol=1e-9, atol=1e-15)


def test_chunking_does_not_change_results() -> None:
    q = _query(k=10, eps=0.0)
    z = sample_projections(q.top, noise_law("normal"), 1000, 3)
    a = simulate_helpfulness(q, "normal", GRID, None, z=z)
    b = simulate_helpfulness(q, "normal", GRID, None, z=z, chunk=7)
    c = simulate_helpfulness(q, "normal", GRID, None, z=z, max_elements=100)
    for s in (b, c):
        for name in ("theorem_2", "jensen", "event", "both_nonempty", "b_plus_empty"):
            assert getattr(s, name) == getattr(a, name)
        for name in ("mean_H", "limit", "beta", "gamma"):
            np.testing.assert_allclose(getattr(s, name).value, getattr(a, name).value, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(getattr(s, name).se, getattr(a, name).se, rtol=1e-9, atol=1e-15)


def test_zero_mass_tokens_change_nothing() -> None:
    q = _query(k=5, eps=0.0)
    p = np.append(q.p, 0.0)
    q0 = SyntheticQuery(p=p, answer=q.answer, top=np.append(q.top, False), fixed_z=np.append(q.fixed_z, 50.0))
    a = simulate_helpfulness(q, "normal", GRID, 4, n_draws=500)
    b = simulate_helpfulness(q0, "normal", GRID, 4, n_draws=500)
    assert a.theorem_2 == b.theorem_2 and a.limit == b.limit
    np.testing.assert_array_equal(a.mean_H.value, b.mean_H.value)


def test_reproducible_from_the_seed() -> None:
    q = _query()
    law = noise_law("t", df=5)
    a = simulate_helpfulness(q, law, GRID, 11, n_draws=400)
    b = simulate_helpfulness(q, law, GRID, np.random.default_rng(11), n_draws=400)
    c = simulate_helpfulness(q, law, GRID, 12, n_draws=400)
    np.testing.assert_array_equal(a.mean_H.value, b.mean_H.value)
    assert not np.array_equal(a.mean_H.value, c.mean_H.value)
    assert a.token_draws == 400 * q.k and a.n_noised == q.k
    assert simulate_helpfulness(q, law, GRID, 11, n_draws=400, noise="all").token_draws == 400 * q.V


# =================================================================================================================
# Monte-Carlo standard errors and the exactly known probabilities
# =================================================================================================================
@pytest.mark.parametrize(("law", "params"), [("normal", {}), ("laplace", {}), ("uniform", {}), ("t", {"df": 5.0})])
@pytest.mark.parametrize("k", [3, 10])
def test_exact_probabilities_within_four_standard_errors(law: str, params: dict, k: int) -> None:
    """B+ empty has probability 1/k, both B+- non-empty 1 - 2/k (exchangeability); P[E_q] = 1/2 (symmetric law);
    the corrected bounds hold on every draw; Corollary 2's limit has mean 1/n with all n tokens noised."""
    q = synthetic_query(k, 0.3, "dirichlet", k, tail_mass=0.1)
    d = noise_law(law, **params)
    s = simulate_helpfulness(q, d, GRID, 100 + k, n_draws=4000)
    for est, truth in ((s.b_plus_empty, 1 / k), (s.both_nonempty, 1 - 2 / k), (s.event, 0.5)):
        se = max(float(est.se), math.sqrt(truth * (1 - truth) / est.n))
        assert abs(est.value - truth) <= 4 * se
    assert s.jensen.value == 1.0
    assert s.event_bound is not None and s.event_bound.value == 1.0
    full = simulate_helpfulness(q, d, GRID, 200 + k, n_draws=4000, noise="all")
    n = q.V
    assert full.corollary_2_value == 1 / n
    assert abs(full.limit.value - 1 / n) <= 4 * max(full.limit.se, math.sqrt((1 / n) * (1 - 1 / n) / 4000))


def test_standard_errors_match_the_spread_of_replications() -> None:
    """The reported SE is the standard deviation of the estimate: compare with 60 independent replications."""
    q = _query(k=4, eps=0.0)
    sims = [simulate_helpfulness(q, "normal", GRID, seed, n_draws=300) for seed in range(60)]
    for name in ("b_plus_empty", "theorem_2", "event", "beta"):
        vals = np.array([float(getattr(s, name).value) for s in sims])
        ses = np.array([float(getattr(s, name).se) for s in sims])
        # the sd of 60 replications has a relative sampling error of about 1/sqrt(2 * 59) = 9%
        assert 0.65 <= vals.std(ddof=1) / ses.mean() <= 1.35, name
    H = np.array([s.mean_H.value for s in sims])
    Hse = np.array([s.mean_H.se for s in sims])
    ratio = H[:, 1:].std(axis=0, ddof=1) / Hse[:, 1:].mean(axis=0)
    assert np.all((ratio > 0.65) & (ratio < 1.35))
    # lambda = 0: H = p0 on every draw (no noise; up to rounding of exp(-log(1/p0)))
    assert np.all(Hse[:, 0] <= 1e-15)
    np.testing.assert_allclose(H[:, 0], q.p0, rtol=1e-14)


def test_expected_helpfulness_matches_the_second_order_formula_at_small_lambda() -> None:
    q = synthetic_query(5, 0.4, "zipf", 0)
    lam = np.array([0.02, 0.05, 0.1, 0.15])
    s = simulate_helpfulness(q, "normal", lam, 3, n_draws=40_000, noise="all")
    diff = np.abs(s.mean_H.value - s.second_order())
    assert np.all(diff <= 4 * s.mean_H.se + 1e-4 * lam**2)


def test_theorem_2_fails_on_a_two_dominant_configuration() -> None:
    """k = 50, two dominant wrong answers: (6) holds far less often than the claimed 1 - 2/k = 0.96."""
    q = synthetic_query(50, 0.5, "two_dominant", 0)
    s = simulate_helpfulness(q, "normal", GRID, 0, n_draws=4000)
    assert s.deficit > 0
    assert s.theorem_2.value < s.claimed - 4 * s.theorem_2.se
    assert s.theorem_2_given_both is not None and s.theorem_2_given_both.value < 0.95
    study = s.as_probability_study()
    assert study.claimed == 0.96 and study.holds == s.theorem_2


# =================================================================================================================
# Errors
# =================================================================================================================
def test_simulate_errors() -> None:
    q = _query()
    with pytest.raises(ValueError, match="backend must be one of"):
        simulate_helpfulness(q, "normal", GRID, 0, backend="jax")
    with pytest.raises(ValueError, match="device must be None or 'cpu'"):
        simulate_helpfulness(q, "normal", GRID, 0, device="cuda")
    with pytest.raises(ValueError, match="noise must be one of"):
        simulate_helpfulness(q, "normal", GRID, 0, noise="tail")
    with pytest.raises(ValueError, match="lam must be a non-empty 1-d grid"):
        simulate_helpfulness(q, "normal", np.ones((2, 2)), 0)
    with pytest.raises(ValueError, match="alpha must lie"):
        simulate_helpfulness(q, "normal", GRID, 0, alpha=0.0)
    with pytest.raises(ValueError, match="n_draws must be an integer >= 2"):
        simulate_helpfulness(q, "normal", GRID, 0, n_draws=1)
    with pytest.raises(ValueError, match="z must have shape"):
        simulate_helpfulness(q, "normal", GRID, None, z=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="differs from the 5 rows"):
        simulate_helpfulness(q, "normal", GRID, None, z=np.zeros((5, q.V)), n_draws=6)
    with pytest.raises(TypeError, match="Generator or an integer seed"):
        simulate_helpfulness(q, "normal", GRID, None)
    with pytest.raises(TypeError, match="SyntheticQuery"):
        simulate_helpfulness({"p": q.p}, "normal", GRID, 0)
    with pytest.raises(ValueError, match="finite positive variance"):
        simulate_helpfulness(q, stats.t(df=2), GRID, 0)
    with pytest.raises(ValueError, match="overflows float64"):
        evaluate_draws(q, np.full((2, q.V), 1e300) * np.arange(q.V), [1e10])


def test_torch_backend_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    from bounds.simulate import torch_available

    assert not torch_available()
    with pytest.raises(ModuleNotFoundError, match="backend='torch' needs torch"):
        simulate_helpfulness(_query(), "normal", GRID, 0, backend="torch")


# =================================================================================================================
# torch backend (skipped cleanly without torch; the GPU test without CUDA)
# =================================================================================================================
LAWS = [
    stats.norm(),
    stats.laplace(),
    stats.uniform(),
    stats.logistic(),
    stats.t(df=5),
    stats.gamma(2.0),  # skewed, sampled by inverse CDF
]


def _check_exact_agreement(device: str) -> None:
    q = _query()
    z = sample_projections(np.ones(q.V, dtype=bool), noise_law("normal"), 300, 8)
    a = evaluate_draws(q, z, LAM, alpha=0.9)
    b = evaluate_draws(q, z, LAM, alpha=0.9, backend="torch", device=device)
    for name in ("log_H", "log_bound_6", "log_jensen", "log_event", "L", "gamma", "beta", "limit"):
        x, y = getattr(a, name), getattr(b, name)
        fin = np.isfinite(x)
        np.testing.assert_array_equal(fin, np.isfinite(y))
        assert np.max(np.abs(x[fin] - y[fin]), initial=0.0) <= 1e-12, name
    for name in ("on_event", "both_nonempty", "b_plus_empty", "holds_6", "holds_jensen", "holds_event"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    sa = simulate_helpfulness(q, "normal", LAM, None, z=z, alpha=0.9)
    sb = simulate_helpfulness(q, "normal", LAM, None, z=z, alpha=0.9, backend="torch", device=device)
    assert sb.backend == "torch" and sb.device.startswith(device)
    for name in ("theorem_2", "jensen", "event", "both_nonempty", "b_plus_empty", "event_bound"):
        assert getattr(sa, name) == getattr(sb, name), name
    for name in ("mean_H", "limit", "beta", "gamma"):
        assert np.max(np.abs(np.asarray(getattr(sa, name).value) - getattr(sb, name).value)) <= 1e-12
        assert np.max(np.abs(np.asarray(getattr(sa, name).se) - getattr(sb, name).se)) <= 1e-12


def _check_statistical_agreement(device: str) -> None:
    q = _query(k=8)
    for j, law in enumerate(LAWS):
        a = simulate_helpfulness(q, law, GRID, 40 + j, n_draws=3000, noise="all")
        b = simulate_helpfulness(q, law, GRID, 40 + j, n_draws=3000, noise="all", backend="torch", device=device)
        assert not np.array_equal(a.mean_H.value, b.mean_H.value)  # different draws
        for name in ("theorem_2", "event", "b_plus_empty", "limit", "beta", "gamma"):
            ea, eb = getattr(a, name), getattr(b, name)
            assert abs(ea.value - eb.value) <= _combined(ea, eb) + 1e-12, (law.dist.name, name)
        for i in range(1, GRID.size):
            assert abs(a.mean_H.value[i] - b.mean_H.value[i]) <= _combined(a.mean_H, b.mean_H, i)


def test_torch_cpu_agrees_exactly_on_the_same_draws() -> None:
    pytest.importorskip("torch")
    _check_exact_agreement("cpu")


def test_torch_cpu_agrees_within_standard_errors() -> None:
    pytest.importorskip("torch")
    _check_statistical_agreement("cpu")


def test_torch_samplers_are_standardised() -> None:
    torch = pytest.importorskip("torch")
    from bounds.simulate import _torch_noise, _TorchOps

    ops = _TorchOps("cpu")
    for law in LAWS:
        gen = torch.Generator().manual_seed(0)
        x = _torch_noise(ops, law, (20_000, 3), gen, 2.0).numpy().ravel()
        assert abs(x.mean()) <= 4 * 2.0 / math.sqrt(x.size)
        assert x.std() == pytest.approx(2.0, rel=0.03), law.dist.name
        ks = stats.kstest((x / 2.0) * law.std() + law.mean(), law.cdf)
        assert ks.pvalue > 1e-3, law.dist.name


def test_torch_seed_comes_from_the_numpy_generator() -> None:
    pytest.importorskip("torch")
    q = _query()
    a = simulate_helpfulness(q, "laplace", GRID, 3, n_draws=200, backend="torch", device="cpu")
    b = simulate_helpfulness(q, "laplace", GRID, np.random.default_rng(3), n_draws=200, backend="torch", device="cpu")
    np.testing.assert_array_equal(a.mean_H.value, b.mean_H.value)
    assert resolve_device("torch", "cpu") == "cpu"


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not _cuda(), reason="needs torch with a CUDA device")
def test_torch_gpu_agrees_with_numpy() -> None:
    assert resolve_device("torch", None) == "cuda"
    _check_exact_agreement("cuda")
    _check_statistical_agreement("cuda")


def test_measure_throughput_reports_token_draws() -> None:
    from bounds.simulate import measure_throughput

    q = _query(k=5, eps=0.0)
    out = measure_throughput(q, "normal", GRID, n_draws=500, repeats=1)
    assert out["token_draws"] == 500 * 5 and out["grid_size"] == GRID.size and out["vocabulary"] == q.V
    assert out["seconds"] > 0 and out["token_draws_per_second"] == pytest.approx(out["token_draws"] / out["seconds"])
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        measure_throughput(q, "normal", GRID, n_draws=500, repeats=0)


# =================================================================================================================
# Monte-Carlo helpers
# =================================================================================================================
def test_montecarlo_helpers() -> None:
    f = frequency([True, False, True, True])
    assert f.value == 0.75 and f.se == pytest.approx(math.sqrt(0.75 * 0.25 / 4)) and f.n == 4
    m = mean_estimate(np.array([1.0, 2.0, 3.0]))
    assert m.value == 2.0 and m.se == pytest.approx(1 / math.sqrt(3))
    assert isinstance(m, Estimate)
    x = sample_noise(noise_law("t", df=5.0), 200_000, 3, sigma=2.0)
    assert abs(x.mean()) < 0.05 and abs(x.std() - 2.0) < 0.05
    assert np.array_equal(sample_noise(noise_law("normal"), 5, 1), sample_noise(noise_law("normal"), 5, 1))
    z = sample_projections([True, False, True], noise_law("uniform"), 6, 0, fixed_z=[0, 7.0, 0], antithetic=True)
    assert np.all(z[:, 1] == 7.0) and np.allclose(z[:3, [0, 2]], -z[3:, [0, 2]])
    with pytest.raises(ValueError, match="variance"):
        noise_law("t", df=2.0)
    with pytest.raises(ValueError, match="name"):
        noise_law("cauchy")
    with pytest.raises(TypeError, match="rng"):
        as_generator(None)
    with pytest.raises(ValueError, match="even"):
        sample_projections([True], noise_law("normal"), 3, 0, antithetic=True)
    with pytest.raises(ValueError, match="at least two"):
        mean_estimate([1.0])


def test_corollary_3_frequency_single_step_is_theorem_2() -> None:
    """With ℓ = 1 the Monte-Carlo check of (79) is that of (6), draw for draw."""
    p = np.array([0.4, 0.3, 0.2, 0.1])
    a = theorem_2_frequency(p, 0, 4, noise_law("laplace"), np.linspace(0, 2, 9), 5, n_draws=3000)
    b = corollary_3_frequency([{"p": p, "answer": 0, "top_k": 4}], noise_law("laplace"), np.linspace(0, 2, 9), 5,
                              n_draws=3000)  # fmt: skip
    assert a.holds.value == b.holds.value and a.claimed == b.claimed
