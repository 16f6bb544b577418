"""The theory figures (paper_figures, kind "theory"): PNGs written, plotted lines equal to the bounds functions,
one counterexample figure per failing statement of the registry."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import bounds
from bounds.multitoken import ResponseTree
from bounds.preference import PreferenceProblem
from bounds.simulate import corollary_3_frequency, evaluate_draws, simulate_helpfulness, theorem_2_frequency
from bounds.spec.helpfulness import theorem_2_realisation_violation
from bounds.synthetic import synthetic_query, two_token_extremal
from paper_figures import FIGURES, build, fig1_tradeoff, fig3b_theorem2, fig_counterexamples, fig_helpfulness_corrected

MIN_PNG_BYTES = 10_000


def _line(fig, gid: str):
    """The one line with this gid on any axes of ``fig``."""
    found = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]
    assert len(found) == 1, f"expected one line with gid {gid!r}, got {len(found)}"
    return found[0]


def _caption(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def _assert_pngs(paths, names) -> None:
    assert sorted(p.name for p in paths) == sorted(names)
    for p in paths:
        assert p.exists() and p.stat().st_size > MIN_PNG_BYTES, p
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_theory_modules_are_registered_with_their_kind() -> None:
    for fid, module in (
        ("fig1", fig1_tradeoff),
        ("fig3b", fig3b_theorem2),
        ("helpfulness-corrected", fig_helpfulness_corrected),
        ("counterexamples", fig_counterexamples),
    ):
        assert FIGURES[fid] == (module.__name__, "theory")
        assert callable(module.render) and module.__doc__.splitlines()[0]  # build.main's command line


# ---------------------------------------------------------------------------------------------------------------
# Fig. 1
# ---------------------------------------------------------------------------------------------------------------
SMALL_FIG1 = fig1_tradeoff.Params(n_draws=300, n_lam=21)


def test_fig1_lines_are_the_bounds_functions() -> None:
    pr = SMALL_FIG1
    fig = fig1_tradeoff.make_figure(pr)
    lam, B = _line(fig, "B_theorem_1").get_data()
    np.testing.assert_allclose(lam, np.linspace(0, pr.lam_max, pr.n_lam))
    np.testing.assert_allclose(B, bounds.alignment_lower(pr.alpha, pr.B0, lam, pr.delta))
    # the two-token instance attains Theorem 1 exactly
    lx, bx = _line(fig, "B_exact").get_data()
    np.testing.assert_allclose(bx, two_token_extremal(pr.B0, pr.delta).behavior(pr.alpha * lx))
    np.testing.assert_allclose(bx, bounds.alignment_lower(pr.alpha, pr.B0, lx, pr.delta), rtol=1e-12)
    # linear near 0: the tangent has Theorem 1's slope alpha*Delta*(1 - B0^2)/2
    _, tang = _line(fig, "B_tangent").get_data()
    np.testing.assert_allclose(tang, pr.B0 + pr.alpha * pr.delta * (1 - pr.B0**2) / 2 * lam)
    # quadratic: the second-order expectation, from the same query
    q = synthetic_query(pr.k, pr.p0, pr.shape, pr.seed)
    _, H2 = _line(fig, "H_second_order").get_data()
    np.testing.assert_allclose(H2, bounds.helpfulness_expectation(q.p0, q.S2, pr.alpha, pr.sigma, lam))
    # Monte-Carlo mean: the same seed gives the same draws
    sim = simulate_helpfulness(q, pr.law, lam, pr.seed, alpha=pr.alpha, sigma=pr.sigma, n_draws=pr.n_draws, noise="all")
    _, Hm = _line(fig, "H_mean").get_data()
    np.testing.assert_allclose(Hm, sim.mean_H.value)
    # H starts at p0 with zero slope while B rises: the tradeoff the figure illustrates
    assert Hm[0] == pytest.approx(q.p0) and B[1] > B[0] and Hm[-1] < Hm[0]
    regime = bounds.tradeoff.efficient_regime(
        bounds.tradeoff.alignment_theorem_1_law(pr.alpha, pr.delta, pr.B0),
        bounds.tradeoff.helpfulness_expectation_law(q.p0, q.S2, pr.alpha, pr.sigma),
        (0.0, pr.lam_max),
    )
    assert regime and regime[0][0] == 0.0
    assert f"[{regime[0][0]:.3g}, {regime[0][1]:.3g}]" in _caption(fig)


def test_fig1_main_renders_the_png(tmp_path: Path) -> None:
    paths = build.main(fig1_tradeoff.render, ["--out", str(tmp_path), "--n-draws", "200"])
    _assert_pngs(paths, [fig1_tradeoff.FILENAME])


def test_fig1_rejects_a_bad_grid() -> None:
    with pytest.raises(ValueError, match="lam_max"):
        fig1_tradeoff.compute(fig1_tradeoff.Params(lam_max=0.0))


# ---------------------------------------------------------------------------------------------------------------
# Fig. 3b
# ---------------------------------------------------------------------------------------------------------------
def test_fig3b_plots_theorem_2_for_each_gamma_and_says_it_fails() -> None:
    fig = fig3b_theorem2.make_figure(p0=0.4, alpha=2.0, sigma=0.5, beta=0.6)
    for g in fig3b_theorem2.GAMMA_VALUES:
        lam, y = _line(fig, f"gamma={g:g}").get_data()
        np.testing.assert_allclose(y, bounds.helpfulness_upper(0.4, g, 2.0, 0.6, 0.5, lam))
    status = bounds.statement("theorem-2").status
    assert status == "fails"
    assert f"STATUS {status.upper()}" in _caption(fig)
    assert status.upper() in fig.axes[0].get_title()


def test_fig3b_estimated_beta_is_the_simulated_mean() -> None:
    est = fig3b_theorem2.estimate_beta(k=6, p0=0.5, n_draws=200, seed=3)
    q = synthetic_query(6, 0.5, "uniform", 3)
    assert est.value == pytest.approx(simulate_helpfulness(q, "normal", np.zeros(1), 3, n_draws=200).beta.value)
    assert 0.0 < est.value < np.sqrt(2 / np.pi)  # below the paper's 0.8 (docs/specification.md §6.1)


def test_fig3b_render_with_the_monte_carlo_beta(tmp_path: Path) -> None:
    _assert_pngs(fig3b_theorem2.render(tmp_path), [fig3b_theorem2.FILENAME])
    with pytest.raises(ValueError, match="gammas"):
        fig3b_theorem2.make_figure(beta=0.5, gammas=())


def test_a_script_starts_outside_the_repository(tmp_path: Path) -> None:
    """``python -m paper_figures.<module>`` from any folder (``--help`` only; the generic ``paper_figures.build.main``
    itself is exercised in-process)."""
    module = fig_counterexamples.__name__
    out = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "--out" in out.stdout


# ---------------------------------------------------------------------------------------------------------------
# Corrected helpfulness statements
# ---------------------------------------------------------------------------------------------------------------
SMALL_HC = fig_helpfulness_corrected.Params(k=12, n_draws=600, n_lam=21)


@pytest.fixture(scope="module")
def hc():
    d = fig_helpfulness_corrected.compute(SMALL_HC)
    return d, fig_helpfulness_corrected.make_figure(SMALL_HC)


def test_corrected_mean_and_second_order_lines(hc) -> None:
    d, fig = hc
    pr, q = SMALL_HC, d["query"]
    lam, m = _line(fig, "mean_H").get_data()
    np.testing.assert_allclose(m, d["sim"].mean_H.value)
    _, h2 = _line(fig, "second_order").get_data()
    np.testing.assert_allclose(h2, bounds.helpfulness_expectation(q.p0, q.S2, pr.alpha, pr.sigma, lam))
    # the per-draw view and the simulation used the same draws
    f6, _ = d["prefix_6"]
    assert f6[-1] == pytest.approx(d["sim"].theorem_2.value)
    assert _line(fig, "prefix_6").get_data()[1][-1] == pytest.approx(d["sim"].theorem_2.value)
    np.testing.assert_array_equal(_line(fig, "prefix_jensen").get_data()[1], 1.0)  # §12.2a holds on every draw
    np.testing.assert_array_equal(_line(fig, "prefix_event").get_data()[1], 1.0)  # §12.2b holds on E_q


def test_corrected_realisation_lines_match_the_simulator(hc) -> None:
    d, fig = hc
    pr, q = SMALL_HC, d["query"]
    law = bounds.synthetic.as_noise_law(pr.law)
    z = fig_helpfulness_corrected.sample_z(q, law, pr.n_draws, pr.seed, pr.sigma)
    lam = d["lam"]
    ev = evaluate_draws(q, z[d["pick"] : d["pick"] + 1], lam, alpha=pr.alpha, sigma=pr.sigma)
    H = _line(fig, "real_H").get_data()[1]
    np.testing.assert_allclose(H, np.exp(ev.log_H[0]), rtol=1e-10)
    np.testing.assert_allclose(_line(fig, "real_eq6").get_data()[1], np.exp(ev.log_bound_6[0]), rtol=1e-10)
    jensen = _line(fig, "real_jensen").get_data()[1]
    np.testing.assert_allclose(jensen, np.exp(ev.log_jensen[0]), rtol=1e-10)
    assert np.all(H <= jensen * (1 + 1e-9))
    if d["pick_fails_6"]:
        assert np.any(H > _line(fig, "real_eq6").get_data()[1])
    if d["pick_on_event"]:
        np.testing.assert_allclose(_line(fig, "real_event").get_data()[1], np.exp(ev.log_event[0]), rtol=1e-10)


def test_corrected_render_writes_the_png(tmp_path: Path) -> None:
    small = fig_helpfulness_corrected.Params(k=6, n_draws=100, n_lam=11)
    paths = fig_helpfulness_corrected.render(tmp_path, params=small)
    _assert_pngs(paths, [fig_helpfulness_corrected.FILENAME])


# ---------------------------------------------------------------------------------------------------------------
# Counterexamples
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """``render`` once for the module; the figures it drew are kept (by id) for the line checks."""
    out = tmp_path_factory.mktemp("counterexamples")
    drawn = {}
    make = fig_counterexamples.make_figure

    def keep(statement):
        fig = make(statement)
        drawn[statement.id] = fig
        return fig

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fig_counterexamples, "make_figure", keep)
        paths = fig_counterexamples.render(out)
    return paths, drawn


def test_one_counterexample_figure_per_failing_statement(rendered) -> None:
    failing = [st.id for st in bounds.statements() if st.status == "fails"]
    assert failing  # the registry has failing statements (theorem-2, theorem-4, ...)
    paths, drawn = rendered
    _assert_pngs(paths, [f"counterexample_{i}.png" for i in failing])
    assert sorted(drawn) == sorted(failing)


def test_the_list_comes_from_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only = [bounds.statement("theorem-4"), bounds.statement("theorem-1")]  # one failing, one holding
    monkeypatch.setattr(bounds, "statements", lambda: only)
    _assert_pngs(fig_counterexamples.render(tmp_path), ["counterexample_theorem-4.png"])


def test_holding_statement_has_no_counterexample_figure() -> None:
    with pytest.raises(ValueError, match="fails"):
        fig_counterexamples.make_figure("theorem-1")
    with pytest.raises(ValueError, match="failing statements"):
        fig_counterexamples.render(".", ids=["theorem-1"])


def test_unknown_failing_statement_gets_the_point_figure() -> None:
    base = bounds.statement("theorem-4")
    fake = dataclasses.replace(base, id="theorem-99", violation=lambda ce: 0.125)
    fig = fig_counterexamples.make_figure(fake)
    (bar,) = fig.axes[0].patches
    assert bar.get_height() == pytest.approx(0.125)
    assert "cannot be drawn over a parameter" in _caption(fig)


def test_theorem_2_figure(rendered) -> None:
    st = bounds.statement("theorem-2")
    fig = rendered[1][st.id]
    ce = st.counterexample
    r = fig_counterexamples.theorem_2_realisation(ce["realisation"])
    lam, H = _line(fig, "H").get_data()
    real = ce["realisation"]
    p, z, a = np.asarray(real["p"]), np.asarray(real["z"]), int(real["answer"])
    zz = np.where(lam[:, None] < 0, -z[None, :], z[None, :])
    np.testing.assert_allclose(H, bounds.steered_helpfulness(p, zz, np.abs(lam), a))
    np.testing.assert_allclose(_line(fig, "eq6").get_data()[1], r["dense_eq6"])
    # the marked violation is the registry's realisation violation on the pinned grid
    seg = _line(fig, "max_violation").get_data()[1]
    assert seg[1] - seg[0] == pytest.approx(theorem_2_realisation_violation(real))
    assert seg[1] - seg[0] > 0
    # Monte-Carlo panel: the last prefix is the registry's study
    f = _line(fig, "frequency").get_data()[1]
    claimed = _line(fig, "claimed").get_data()[1][0]
    mc = ce["monte_carlo"]
    study = theorem_2_frequency(
        np.asarray(mc["p"]), mc["answer"], np.asarray(mc["top"]), bounds.synthetic.as_noise_law(mc["law"]),
        np.asarray(mc["lam"]), mc["seed"], alpha=mc["alpha"], sigma=mc["sigma"], fixed_z=np.asarray(mc["fixed_z"]),
        n_draws=mc["n_draws"],
    )  # fmt: skip
    assert f[-1] == study.holds.value and claimed == study.claimed
    assert claimed - f[-1] - 4 * study.se == pytest.approx(study.deficit)
    assert study.deficit == pytest.approx(st.violation(ce))
    assert study.deficit > 0
    assert np.all(np.diff(f) <= 0)  # "holds on [0, lambda]" can only get rarer along the grid


def test_corollary_3_figure(rendered) -> None:
    st = bounds.statement("corollary-3")
    fig = rendered[1][st.id]
    f = _line(fig, "frequency").get_data()[1]
    claimed = _line(fig, "claimed").get_data()[1][0]
    mc = st.counterexample["monte_carlo"]
    steps = [
        {"p": np.asarray(x["p"]), "answer": x["answer"], "top_k": np.asarray(x["top"]),
         "fixed_z": np.asarray(x["fixed_z"])}
        for x in mc["steps"]
    ]  # fmt: skip
    study = corollary_3_frequency(
        steps, bounds.synthetic.as_noise_law(mc["law"]), np.asarray(mc["lam"]), mc["seed"], alpha=mc["alpha"],
        sigma=mc["sigma"], n_draws=mc["n_draws"],
    )  # fmt: skip
    assert f[-1] == study.holds.value and claimed == study.claimed
    assert claimed - f[-1] - 4 * study.se == pytest.approx(study.deficit)
    assert study.deficit == pytest.approx(st.violation(st.counterexample))
    assert study.deficit > 0
    assert len(_line(fig, "refuted").get_data()[0]) >= 1


def test_theorem_4_figure(rendered) -> None:
    st = bounds.statement("theorem-4")
    ce = st.counterexample
    fig = rendered[1][st.id]
    p, z, s = np.asarray(ce["p"]), np.asarray(ce["z"]), np.asarray(ce["scores"], float)
    x, exact = _line(fig, "exact").get_data()
    np.testing.assert_allclose(exact, bounds.behavior_expectation(p, z, x, s))
    P_plus, B0 = float(p[s > 0].sum()), float(np.sum(p * s))
    np.testing.assert_allclose(_line(fig, "claimed").get_data()[1], bounds.trinary_lower(1, B0, P_plus, x, ce["delta"]))
    corrected = _line(fig, "corrected").get_data()[1]
    np.testing.assert_allclose(corrected, bounds.trinary_lower_corrected(1, B0, P_plus, x, ce["delta"]))
    assert np.all(corrected <= exact + 1e-12)  # the correction holds where the claim fails
    seg = _line(fig, "pinned_violation").get_data()[1]
    assert seg[1] - seg[0] == pytest.approx(st.violation(ce))


def test_theorem_6_figure(rendered) -> None:
    st = bounds.statement("theorem-6")
    ce = st.counterexample
    fig = rendered[1][st.id]
    tree = ResponseTree.from_dict(ce["tree"])
    lam, B = _line(fig, "B").get_data()
    np.testing.assert_allclose(B, bounds.response_behavior(tree, ce["alpha"] * lam))
    target = _line(fig, "target").get_data()[1][0]
    assert target == pytest.approx(1 - 2 * ce["eps"])
    _, b_pinned = _line(fig, "pinned").get_data()
    assert target - b_pinned[0] == pytest.approx(st.violation(ce))
    c = fig_counterexamples.theorem_6_curves(ce)
    assert c["lam_claimed"] == pytest.approx(
        bounds.multitoken_threshold(ce["eps"], tree.behavior(0.0), ce["ell"], ce["alpha"], ce["delta"])
    )
    assert c["B_corrected"] >= target  # the corrected threshold delivers the guarantee


@pytest.mark.parametrize("sid", ["proposition-kl-second-order-accuracy", "corollary-kl-budget-second-order"])
def test_kl_figures(rendered, sid: str) -> None:
    """The KL figures draw the exact KL, the law and the rigorous bound of bounds.kl, and mark the registry's
    violation (a relative miss of the law, or the budget overspent)."""
    st = bounds.statement(sid)
    ce = st.counterexample
    fig = rendered[1][sid]
    p, z = np.asarray(ce["p"]), np.asarray(ce["z"])
    var, spread = bounds.projection_spread(p, z)
    x, exact = _line(fig, "exact").get_data()
    np.testing.assert_allclose(exact, bounds.kl_divergence(p, z, x))
    np.testing.assert_allclose(_line(fig, "law").get_data()[1], bounds.kl_second_order(x, var))
    upper = _line(fig, "upper").get_data()[1]
    np.testing.assert_allclose(upper, bounds.kl_upper(x, spread))
    assert np.all(exact <= upper * (1 + 1e-12))  # proposition-kl-upper holds on the same instance
    low, high = _line(fig, "pinned_violation").get_data()[1]
    if "tau" in ce:  # from the budget up to the KL spent at the law's strength
        assert low == ce["tau"] and high - low == pytest.approx(st.violation(ce))
    else:  # from the exact KL up to the law
        assert abs(high - low) / low - 0.1 == pytest.approx(st.violation(ce))


def test_proposition_1_figure(rendered) -> None:
    st = bounds.statement("proposition-1")
    ce = st.counterexample
    fig = rendered[1][st.id]
    prob = PreferenceProblem.from_dict(ce)
    eta, actual = _line(fig, "actual").get_data()
    np.testing.assert_allclose(actual, [prob.actual(e).ravel()[0] for e in eta])
    np.testing.assert_allclose(
        _line(fig, "proposition_1").get_data()[1], [prob.proposition_1(e).ravel()[0] for e in eta]
    )
    np.testing.assert_allclose(_line(fig, "corrected").get_data()[1], [prob.corrected(e).ravel()[0] for e in eta])
    seg = _line(fig, "pinned_violation").get_data()
    assert seg[0][0] == pytest.approx(prob.eta)
    assert "not a function of λ" in _caption(fig)


def test_counterexamples_main(tmp_path: Path) -> None:
    paths = build.main(fig_counterexamples.render, ["--out", str(tmp_path), "--ids", "proposition-1"])
    _assert_pngs(paths, ["counterexample_proposition-1.png"])
