r"""The corrected helpfulness statements (docs/specification.md §12.2: ``theorem-2-jensen``, ``theorem-2-event``,
``theorem-2-expectation``, which replace Theorem 2's eq. 6, status ``fails``) against a Monte-Carlo simulation of a
synthetic query.

One set of projections :math:`z` (every token of a synthetic query noised, no tail) feeds both
:func:`bounds.simulate.simulate_helpfulness` and :func:`bounds.simulate.evaluate_draws`; the four panels are described
in docs/gallery.md. Run ``python -m paper_figures.fig_helpfulness_corrected [--out DIR]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import bounds
from bounds._plot import add_caption, new_figure
from bounds.helpfulness import RTOL
from bounds.simulate import evaluate_draws, simulate_helpfulness
from bounds.synthetic import as_noise_law, synthetic_query
from paper_figures._common import lam_grid, save

FILENAME = "fig_helpfulness_corrected.png"
STATEMENTS = ("theorem-2", "theorem-2-jensen", "theorem-2-event", "theorem-2-expectation")


@dataclass(frozen=True)
class Params:
    """The simulated query and grid (all stated in the caption).

    Attributes:
        k: top-:math:`k` size = vocabulary (no tail: every token is noised), ``>= 2``.
        p0: unsteered probability of the correct answer, in (0, 1).
        shape: wrong-answer shape (:data:`bounds.synthetic.WRONG_SHAPES`); share: its ``two_dominant`` parameter.
        law: noise law name (symmetric for §12.2c). alpha, sigma: :math:`\\alpha,\\sigma>0`.
        lam_max, n_lam: the grid ``linspace(0, lam_max, n_lam)``.
        n_draws: realisations. seed: seed of the query and of the noise.
    """

    k: int = 30
    p0: float = 0.5
    shape: str = "two_dominant"
    share: float = 0.8
    law: str = "normal"
    alpha: float = 1.0
    sigma: float = 1.0
    lam_max: float = 2.0
    n_lam: int = 41
    n_draws: int = 4000
    seed: int = 0


def sample_z(query: Any, law: Any, n_draws: int, seed: int, sigma: float) -> np.ndarray:
    """``(n_draws, V)`` projections: i.i.d. draws of ``law`` standardised to mean 0 and sd ``sigma`` on :math:`T_k`,
    the query's fixed projections elsewhere (Assumption 3)."""
    gen = np.random.default_rng(seed)
    k = query.k
    noise = np.asarray(law.rvs(size=(int(n_draws), k), random_state=gen), dtype=float)
    noise = (noise - float(law.mean())) * (float(sigma) / float(law.std()))
    z = np.broadcast_to(np.asarray(query.fixed_z, dtype=float), (int(n_draws), query.V)).copy()
    z[:, query.top] = noise
    return z


def _prefix_frequency(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per grid point ``j``: the fraction of draws with ``ok`` at every grid point ``<= j``, and its SE."""
    prefix = np.logical_and.accumulate(ok, axis=1)
    f = prefix.mean(axis=0)
    return f, np.sqrt(f * (1.0 - f) / ok.shape[0])


def realisation_curves(query: Any, z: np.ndarray, lam: np.ndarray, alpha: float, sigma: float) -> dict[str, Any]:
    """Exact :math:`H` and the bounds of one realisation ``z`` on ``lam >= 0``, from the public :mod:`bounds` API.

    Returns:
        dict with ``H`` (exact steered helpfulness), ``eq6`` (eq. 6 with the draw's γ, β), ``jensen``, ``event``
        (the §12.2b bound with :math:`1-\\epsilon=P(T_k)`) and ``q`` (:func:`bounds.helpfulness_quantities` at
        :math:`\\alpha\\lambda`).
    """
    q = bounds.helpfulness_quantities(query.p, z, query.answer, query.top, lam_norm=alpha * lam, sigma=sigma)
    H = bounds.steered_helpfulness(query.p, z, alpha * lam, query.answer)
    eq6 = bounds.helpfulness_upper(q.p0, q.gamma, alpha, q.beta, sigma, lam)
    jensen = bounds.helpfulness_jensen(q.p0, q.P_plus, q.P_minus, q.X_plus, q.X_minus)
    event = bounds.helpfulness_event(q.p0, q.top_mass, q.P_plus, q.X_plus)
    curves = {"H": H, "eq6": eq6, "jensen": jensen, "event": event}
    return {**{k: np.asarray(v) for k, v in curves.items()}, "q": q}


def compute(params: Params | None = None) -> dict[str, Any]:
    """Every plotted quantity (docs/gallery.md); the same draws feed the simulation and the per-draw view."""
    pr = Params() if params is None else params
    lam = lam_grid(pr.lam_max, pr.n_lam)
    shape_kw = {"share": pr.share} if pr.shape == "two_dominant" else {}
    query = synthetic_query(pr.k, pr.p0, pr.shape, pr.seed, **shape_kw)
    law = as_noise_law(pr.law)
    z = sample_z(query, law, pr.n_draws, pr.seed, pr.sigma)
    sim = simulate_helpfulness(query, law, lam, None, alpha=pr.alpha, sigma=pr.sigma, z=z)
    draws = evaluate_draws(query, z, lam, alpha=pr.alpha, sigma=pr.sigma)
    ok6 = draws.log_H <= draws.log_bound_6 + RTOL
    okJ = draws.log_H <= draws.log_jensen + RTOL
    okE = (~draws.on_event) | (draws.log_H <= draws.log_event + RTOL)
    fails = np.flatnonzero(~draws.holds_6)
    pick = int(fails[0]) if fails.size else 0
    return {
        "lam": lam,
        "query": query,
        "sim": sim,
        "draws": draws,
        "second_order": np.asarray(bounds.helpfulness_expectation(query.p0, query.S2, pr.alpha, pr.sigma, lam)),
        "prefix_6": _prefix_frequency(ok6),
        "prefix_jensen": _prefix_frequency(okJ),
        "prefix_event": _prefix_frequency(okE[draws.on_event[:, -1]]),
        "pick": pick,
        "pick_fails_6": bool(fails.size),
        "pick_on_event": bool(draws.on_event[pick, -1]),
        "n_fail_6": int(fails.size),
        "n_fail_6_on_event": int(np.sum(draws.on_event[fails, -1])),
        "realisation": realisation_curves(query, z[pick], lam, pr.alpha, pr.sigma),
        "params": pr,
    }


def _panel_mean(ax: Any, d: dict[str, Any]) -> None:
    lam, sim, q = d["lam"], d["sim"], d["query"]
    m, se = np.asarray(sim.mean_H.value), np.asarray(sim.mean_H.se)
    ax.fill_between(lam, m - se, m + se, color="tab:red", alpha=0.3, lw=0)
    ax.plot(lam, m, color="tab:red", lw=2.0, gid="mean_H", label=r"Monte-Carlo $E_z[H_\lambda]$ ±1 SE")
    label = "theorem-2-expectation (2nd order)"
    ax.plot(lam, d["second_order"], "--", color="k", lw=1.3, gid="second_order", label=label)
    ax.axhline(1.0 / sim.n_noised, color="0.5", ls=":", lw=1.0, label=f"Corollary 2 limit 1/n = 1/{sim.n_noised}")
    ax.set_ylim(0.0, max(0.6, q.p0 + 0.05))
    ax.set_xlabel(r"steering coefficient $\lambda$")
    ax.set_ylabel(r"expected helpfulness $E_z[H_\lambda]$")
    ax.set_title("(a) expectation, §12.2(c)", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")


def _panel_realisation(ax: Any, d: dict[str, Any]) -> None:
    lam, r = d["lam"], d["realisation"]
    ax.plot(lam, r["H"], color="k", lw=2.2, gid="real_H", label="exact $H_\\lambda$ (this draw)")
    ax.plot(lam, r["eq6"], color="tab:purple", lw=1.5, gid="real_eq6", label="eq. (6) [fails]")
    ax.plot(lam, r["jensen"], color="tab:green", lw=1.5, ls="--", gid="real_jensen", label="theorem-2-jensen")
    if d["pick_on_event"]:  # the event bound is claimed on E_q only
        ax.plot(lam, r["event"], color="tab:orange", lw=1.5, ls="-.", gid="real_event", label="theorem-2-event")
    bad = r["H"] > r["eq6"] * (1 + RTOL)
    if bad.any():
        ax.fill_between(lam, r["eq6"], r["H"], where=bad, color="tab:purple", alpha=0.25, lw=0, label="$H>$ eq. (6)")
    shown = np.concatenate([r["H"], r["eq6"], r["jensen"]] + ([r["event"]] if d["pick_on_event"] else []))
    ax.set_ylim(max(0.0, float(shown.min()) - 0.15), min(1.0, float(shown.max()) + 0.05))
    ax.set_xlabel(r"steering coefficient $\lambda$")
    ax.set_ylabel(r"helpfulness $H_\lambda(q)$ and bounds")
    q = r["q"]
    where = "on" if d["pick_on_event"] else "off"
    ax.set_title(
        f"(b) draw #{d['pick']} ({where} $E_q$): γ = {float(np.ravel(q.gamma)[0]):.2f}, "
        f"β = {float(np.ravel(q.beta)[0]):.2f}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="lower right")


def _panel_prefix(ax: Any, d: dict[str, Any]) -> None:
    lam, sim = d["lam"], d["sim"]
    for key, color, ls, lw, label in (
        ("prefix_jensen", "tab:green", "-", 4.0, "theorem-2-jensen (claimed 1)"),
        ("prefix_event", "tab:orange", "--", 1.8, "theorem-2-event on $E_q$ (claimed 1)"),
        ("prefix_6", "tab:purple", "-", 1.8, "eq. (6)"),
    ):
        f, se = d[key]
        ax.fill_between(lam, f - se, f + se, color=color, alpha=0.3, lw=0)
        ax.plot(lam, f, color=color, ls=ls, lw=lw, gid=key, label=label)
    ax.axhline(sim.claimed, color="tab:purple", ls="--", lw=1.2, label=f"claimed 1 - 2/k = {sim.claimed:.3f}")
    f6 = d["prefix_6"][0]
    ax.set_ylim(min(0.8, float(f6.min()) - 0.03), 1.01)
    ax.set_xlabel(r"steering coefficient $\lambda$")
    ax.set_ylabel(r"fraction of draws: bound holds on $[0,\lambda]$")
    ax.set_title("(c) frequency of the bound holding", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")


def _panel_bars(ax: Any, d: dict[str, Any]) -> None:
    sim = d["sim"]
    rows = [
        ("eq. (6)\nwhole grid", sim.theorem_2, sim.claimed),
        ("Jensen\nwhole grid", sim.jensen, 1.0),
        ("event bound\non $E_q$", sim.event_bound, 1.0),
        ("$P(E_q)$", sim.event, 0.5),
        ("$B^\\pm$ both\nnon-empty", sim.both_nonempty, sim.claimed),
    ]
    rows = [r for r in rows if r[1] is not None]
    x = np.arange(len(rows))
    vals = np.array([float(r[1].value) for r in rows])
    ses = np.array([float(r[1].se) for r in rows])
    ax.bar(x, vals, yerr=ses, color="tab:gray", alpha=0.7, capsize=3, label="measured ±1 SE", gid="measured")
    ax.plot(x, [r[2] for r in rows], "D", color="tab:red", ms=6, label="claimed", gid="claimed")
    ax.set_xticks(x, [r[0] for r in rows], fontsize=7)
    ax.set_ylim(0.0, 1.1)
    ax.set_ylabel("frequency over draws")
    ax.set_title(f"(d) {sim.n_draws} draws, λ in [0, {d['lam'][-1]:g}]", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")


def make_figure(params: Params | None = None) -> Any:
    """The four-panel figure (Agg canvas); lines carry ``gid`` names (``mean_H``, ``second_order``, ``real_*``,
    ``prefix_*``)."""
    d = compute(params)
    pr, q, sim = d["params"], d["query"], d["sim"]
    fig, axes = new_figure((9.0, 7.6), 2, 2)
    _panel_mean(axes[0, 0], d)
    _panel_realisation(axes[0, 1], d)
    _panel_prefix(axes[1, 0], d)
    _panel_bars(axes[1, 1], d)
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
    sts = [bounds.statement(i) for i in STATEMENTS]
    status = "; ".join(f"{s.id}: {s.status}" for s in sts)
    deficit = sim.deficit
    verdict = (
        f"eq. (6) holds on the whole grid for {float(sim.theorem_2.value):.4f} ± {float(sim.theorem_2.se):.4f} of "
        f"the draws vs the claimed {sim.claimed:.4f} (deficit at 4 SE: {deficit:+.4f}, > 0 refutes)"
    )
    pick = (
        f"(b) shows draw #{d['pick']}, the first where eq. (6) fails somewhere on the grid (the event bound is drawn "
        f"only for a draw on E_q); of the {d['n_fail_6']} draws where eq. (6) fails, {d['n_fail_6_on_event']} lie on "
        "E_q"
        if d["pick_fails_6"]
        else "(b) shows draw #0 (eq. (6) never failed)"
    )
    parts = [
        f"Theory only (bounds; registry status: {status}). Synthetic query: k = {q.k} tokens, no tail (all noised),",
        f"p0 = {q.p0:g}, {pr.shape} wrong answers" + (f" (share {pr.share:g})" if pr.shape == "two_dominant" else ""),
        f"S2 = {q.S2:.3g}; noise D = scipy {sim.law}, σ = {pr.sigma:g}, α = {pr.alpha:g}; {sim.n_draws} draws",
        f"(seed {pr.seed}), λ grid {d['lam'].size} points on [0, {pr.lam_max:g}]. {verdict}. Jensen bound holds on",
        f"{float(sim.jensen.value):.4f} of the draws, the event bound on",
        f"{float(sim.event_bound.value) if sim.event_bound is not None else float('nan'):.4f} of those on E_q",
        f"(P(E_q) = {float(sim.event.value):.3f}). {pick}. Bands and error bars: ±1 SE.",
    ]
    add_caption(fig, " ".join(parts), width=140)
    return fig


def render(out_dir: str | Path, *, params: Params | None = None) -> list[Path]:
    """Write :data:`FILENAME` under ``out_dir`` and return its path in a list (the ``"theory"`` figure protocol)."""
    return [save(make_figure(params), out_dir, FILENAME)]


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
