"""One figure per failing statement of the registry, drawn from the statement's own pinned counterexample.

The failing statements are read from :func:`bounds.statements` (``status == "fails"``), never listed here; each figure
states the registry's violation value (``> 0``: violated) in its caption. A failing statement without a plotter in
:data:`PLOTTERS` gets a bar of its registry violation. Files: ``counterexample_<id>.png``. Run
``python -m paper_figures.fig_counterexamples [--out DIR]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

import bounds
from bounds._plot import add_caption, new_figure
from bounds.helpfulness import RTOL
from bounds.multitoken import ResponseTree
from bounds.preference import PreferenceProblem
from bounds.simulate import corollary_3_frequency, theorem_2_frequency
from bounds.spec.helpfulness import mc_arguments
from paper_figures._common import save

#: file name of a statement's figure
FILENAME = "counterexample_{id}.png"
#: points of the dense grids drawn between and beyond the pinned points
N_DENSE = 301


def failing_statements() -> list[bounds.Statement]:
    """The statements of the registry whose status is ``fails`` (docs/specification.md §0 order)."""
    return [st for st in bounds.statements() if st.status == "fails"]


def filename(statement_id: str) -> str:
    """``counterexample_<id>.png``."""
    return FILENAME.format(id=statement_id)


# ---------------------------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------------------------
def _formula(st: bounds.Statement) -> str:
    """The statement in mathtext when matplotlib can typeset it, else its plain-text form."""
    from matplotlib.mathtext import MathTextParser

    tex = "$" + re.sub(r"(?<!\\)nabla", r"\\nabla ", st.latex()) + "$"
    try:
        MathTextParser("path").parse(tex)
    except ValueError:
        return st.text()
    return tex


def _title(fig: Any, st: bounds.Statement) -> None:
    fig.suptitle(f"{st.id} ({st.name}): status {st.status.upper()}\nclaim: {_formula(st)}", fontsize=9)


def _finish(fig: Any, st: bounds.Statement, what: str, ax: Any = None, loc: str = "best") -> Any:
    """Title and caption (with the registry's violation on the pinned counterexample); legend at ``loc`` and grid on
    ``ax`` when given."""
    if ax is not None:
        ax.legend(fontsize=7, loc=loc)
        ax.grid(alpha=0.3)
    _title(fig, st)
    _caption(fig, st, what, float(st.violation(st.counterexample)))
    return fig


def _caption(fig: Any, st: bounds.Statement, what: str, violation: float, width: int = 115) -> None:
    ce = st.counterexample or {}
    desc = ce.get("shows") or ce.get("what") or ""
    parts = [
        f"Theory only (bounds). Statement {st.id}, status {st.status} (provenance {', '.join(st.provenance)}).",
        what,
        f"Registry violation on the pinned counterexample: {violation:.4g} (> 0 means violated).",
        f"The registry's counterexample: {desc}" if desc else "",
    ]
    add_caption(fig, " ".join(p for p in parts if p), width=width)


def _prefix_studies(run: Callable[[np.ndarray], Any], mc: Mapping[str, Any]) -> tuple[np.ndarray, list[Any]]:
    """The pinned grid ``lam`` and the probability study on each prefix ``lam[: j + 1]`` (same seed: the same draws
    each time)."""
    lam = np.asarray(mc["lam"], dtype=float)
    return lam, [run(lam[: j + 1]) for j in range(lam.size)]


def _probability_panel(ax: Any, lam: np.ndarray, studies: list[Any], what: str) -> dict[str, np.ndarray]:
    """Frequency of "the bound holds on [0, λ]" with a ±4 SE band, the claimed probability, refuted points marked."""
    f = np.array([float(s.holds.value) for s in studies])
    se = np.array([s.se for s in studies])
    claimed = float(studies[-1].claimed)
    deficit = np.array([s.deficit for s in studies])
    ax.fill_between(lam, f - 4 * se, f + 4 * se, color="tab:purple", alpha=0.2, lw=0, label="±4 SE")
    ax.plot(lam, f, "o-", color="tab:purple", ms=3.5, lw=1.6, gid="frequency", label=f"measured: {what}")
    ax.axhline(claimed, color="k", ls="--", lw=1.2, gid="claimed", label=f"claimed probability {claimed:.4f}")
    bad = deficit > 0
    if bad.any():
        ax.plot(
            lam[bad], f[bad], "x", color="tab:red", ms=8, mew=2, gid="refuted", label="refuted (claimed > f + 4 SE)"
        )
    lo = min(float(np.min(f - 4 * se)), claimed) - 0.01
    ax.set_ylim(lo, min(1.0, max(float(np.max(f + 4 * se)), claimed)) + 0.01)
    ax.set_xlim(lam[0], lam[-1])
    ax.set_ylabel("fraction of noise draws")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    return {"lam": lam, "frequency": f, "se": se, "deficit": deficit, "claimed": np.asarray(claimed)}


def _mark(ax: Any, x: float, ys: tuple[float, float], y: float, gid: str, text: str, xytext: tuple) -> None:
    """The pinned violation: a red segment over ``ys`` at ``x``, and ``text`` pointing at ``(x, y)``."""
    ax.plot([x, x], list(ys), color="tab:red", lw=2.5, gid=gid)
    arrow = {"arrowstyle": "->", "color": "tab:red"}
    ax.annotate(text, (x, y), xytext=xytext, textcoords="axes fraction", fontsize=8, arrowprops=arrow)


# ---------------------------------------------------------------------------------------------------------------
# theorem-2: the pinned realisation and the pinned Monte-Carlo configuration
# ---------------------------------------------------------------------------------------------------------------
def theorem_2_realisation(r: Mapping[str, Any], n: int = N_DENSE) -> dict[str, np.ndarray]:
    """Exact :math:`H`, eq. (6) and the Jensen bound of the pinned realisation on a dense signed :math:`\\alpha\\lambda`
    grid from 0 to the pinned grid's far end (the realisation's :math:`\\gamma,\\beta`, :math:`\\alpha=\\sigma=1` as in
    ``bounds.spec.helpfulness.theorem_2_realisation_violation``), and the same on the pinned grid."""
    p, z, top, a = np.asarray(r["p"]), np.asarray(r["z"]), np.asarray(r["top"], dtype=bool), int(r["answer"])
    pinned = np.asarray(r["lam_norm"], dtype=float)
    end = float(pinned[np.argmax(np.abs(pinned))])
    out: dict[str, np.ndarray] = {}
    for key, grid in (("dense", np.linspace(0.0, end, n)), ("pinned", pinned)):
        q = bounds.helpfulness_quantities(p, z, a, top, lam_norm=grid, sigma=1.0)
        zz = np.where(grid[:, None] < 0, -z[None, :], z[None, :])
        out[f"{key}_lam"] = grid
        out[f"{key}_H"] = np.asarray(bounds.steered_helpfulness(p, zz, np.abs(grid), a))
        out[f"{key}_eq6"] = np.asarray(bounds.helpfulness_upper(q.p0, q.gamma, 1.0, q.beta, 1.0, np.abs(grid)))
        out[f"{key}_jensen"] = np.asarray(bounds.helpfulness_jensen(q.p0, q.P_plus, q.P_minus, q.X_plus, q.X_minus))
        out[f"{key}_both"] = np.asarray(q.both_nonempty)
        out[f"{key}_gamma"], out[f"{key}_beta"] = np.asarray(q.gamma), np.asarray(q.beta)
    return out


def theorem_2_studies(mc: Mapping[str, Any]) -> tuple[np.ndarray, list[Any]]:
    """:func:`bounds.simulate.theorem_2_frequency` on every prefix of the pinned grid (pinned seed and draws)."""

    def run(grid: np.ndarray) -> Any:
        args, kwargs = mc_arguments(mc, grid)
        p, top = np.asarray(mc["p"]), np.asarray(mc["top"], dtype=bool)
        return theorem_2_frequency(p, int(mc["answer"]), top, *args, fixed_z=np.asarray(mc["fixed_z"]), **kwargs)

    return _prefix_studies(run, mc)


def _plot_theorem_2(st: bounds.Statement) -> Any:
    ce = st.counterexample
    fig, axes = new_figure((7.0, 10.0), nrows=2, squeeze=False)
    ax = axes[0, 0]
    r = theorem_2_realisation(ce["realisation"])
    lam = r["dense_lam"]
    ax.plot(lam, r["dense_H"], color="k", lw=2.2, gid="H", label=r"exact $H_\lambda$ (true)")
    ax.plot(lam, r["dense_eq6"], color="tab:purple", lw=1.8, gid="eq6", label="eq. (6) with this draw's γ, β (claimed)")
    ax.plot(lam, r["dense_jensen"], "--", color="tab:green", lw=1.5, gid="jensen", label="theorem-2-jensen (holds)")
    bad = r["dense_H"] > r["dense_eq6"] * (1 + RTOL)
    ax.fill_between(lam, r["dense_eq6"], r["dense_H"], where=bad, color="tab:red", alpha=0.3, lw=0, label="violation")
    gap = r["pinned_H"] - r["pinned_eq6"]
    i = int(np.argmax(gap))
    lp = r["pinned_lam"]
    text = f"max H - (6) on the pinned grid = {gap[i]:.4f}\nat αλ = {lp[i]:g}"
    _mark(ax, lp[i], (r["pinned_eq6"][i], r["pinned_H"][i]), r["pinned_H"][i], "max_violation", text, (0.03, 0.80))
    real = ce["realisation"]
    ax.set_title(
        f"(a) one realisation: p = {np.round(real['p'], 3).tolist()}, z = {real['z']}, a* = {real['answer']}; "
        f"both B± non-empty: {bool(np.all(r['pinned_both']))}",
        fontsize=8,
    )
    ax.set_xlabel(
        r"signed $\alpha\lambda$ ($\lambda<0$: steering towards the misaligned side; $\|\delta\|=|\alpha\lambda|$)"
    )
    ax.set_ylabel("helpfulness (probability of $a^*$)")
    ax.set_xlim(min(lam[0], lam[-1]), max(lam[0], lam[-1]))
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    mc = ce["monte_carlo"]
    lam_mc, studies = theorem_2_studies(mc)
    ax2 = axes[1, 0]
    _probability_panel(ax2, lam_mc, studies, "eq. (6) holds on $[0,\\lambda]$")
    ax2.set_xlabel(r"steering coefficient $\lambda$ (end of the grid prefix)")
    k = int(np.sum(mc["top"]))
    ax2.set_title(
        f"(b) Monte-Carlo: k = {k}, p0 = {mc['p'][mc['answer']]:g}, {mc.get('shape', '?')} wrong answers, "
        f"{mc['law']} noise, {mc['n_draws']} draws (seed {mc['seed']})",
        fontsize=8,
    )
    last = studies[-1]
    what = (
        f"(a) the pinned realisation (α = σ = 1), dense grid of {lam.size} points; the pinned grid's maximum of "
        f"H - eq.(6) is {gap[i]:.4g}. (b) on the pinned configuration eq. (6) holds on the whole grid for "
        f"{float(last.holds.value):.4f} ± {float(last.holds.se):.4f} of {last.holds.n} draws vs the claimed "
        f"{last.claimed:.4f}."
    )
    return _finish(fig, st, what)


# ---------------------------------------------------------------------------------------------------------------
# corollary-3
# ---------------------------------------------------------------------------------------------------------------
def corollary_3_studies(mc: Mapping[str, Any]) -> tuple[np.ndarray, list[Any]]:
    """:func:`bounds.simulate.corollary_3_frequency` on every prefix of the pinned grid (pinned seed and draws)."""
    steps = [
        {"p": np.asarray(s["p"]), "answer": int(s["answer"]), "top_k": np.asarray(s["top"], dtype=bool),
         "fixed_z": np.asarray(s["fixed_z"])}
        for s in mc["steps"]
    ]  # fmt: skip

    def run(grid: np.ndarray) -> Any:
        args, kwargs = mc_arguments(mc, grid)
        return corollary_3_frequency(steps, *args, **kwargs)

    return _prefix_studies(run, mc)


def _plot_corollary_3(st: bounds.Statement) -> Any:
    ce = st.counterexample
    mc = ce["monte_carlo"]
    lam, studies = corollary_3_studies(mc)
    fig, ax = new_figure((7.0, 5.8))
    _probability_panel(ax, lam, studies, "eq. (79) holds on $[0,\\lambda]$")
    ax.set_xlabel(r"steering coefficient $\lambda$ (end of the grid prefix)")
    ell = len(mc["steps"])
    p0s = ", ".join(f"{s['p'][s['answer']]:.4g}" for s in mc["steps"])
    ax.set_title(
        f"ℓ = {ell} steps, p0 per step = ({p0s}), {mc['law']} noise, {mc['n_draws']} draws (seed {mc['seed']})",
        fontsize=8,
    )
    last = studies[-1]
    what = (
        f"Monte-Carlo frequency of the product bound (79) holding on [0, λ] on the pinned configuration: "
        f"{float(last.holds.value):.4f} ± {float(last.holds.se):.4f} on the whole grid vs the claimed "
        f"1 - 2ℓ/k = {last.claimed:.4f}."
    )
    return _finish(fig, st, what)


# ---------------------------------------------------------------------------------------------------------------
# theorem-4
# ---------------------------------------------------------------------------------------------------------------
def theorem_4_curves(ce: Mapping[str, Any], n: int = N_DENSE) -> dict[str, Any]:
    """Exact trinary behavior, eq. (66) and its correction over ``‖δ‖`` (α = 1, as the registry's violation)."""
    p, z, s = np.asarray(ce["p"], dtype=float), np.asarray(ce["z"], dtype=float), np.asarray(ce["scores"], float)
    P_plus, B0 = float(p[s > 0].sum()), float(np.sum(p * s))
    norm = np.linspace(0.0, max(3.0, 3.0 * float(ce["norm"])), n)
    return {
        "norm": norm,
        "exact": np.asarray(bounds.behavior_expectation(p, z, norm, s)),
        "claimed": np.asarray(bounds.trinary_lower(1.0, B0, P_plus, norm, ce["delta"])),
        "corrected": np.asarray(bounds.trinary_lower_corrected(1.0, B0, P_plus, norm, ce["delta"])),
        "P_plus": P_plus,
        "B0": B0,
    }


def _plot_theorem_4(st: bounds.Statement) -> Any:
    ce = st.counterexample
    c = theorem_4_curves(ce)
    x = c["norm"]
    fig, ax = new_figure((7.0, 5.8))
    ax.plot(x, c["exact"], color="k", lw=2.2, gid="exact", label=r"exact steered $B$ (true)")
    ax.plot(x, c["claimed"], color="tab:purple", lw=1.8, gid="claimed", label="eq. (66) lower bound (claimed)")
    ax.plot(x, c["corrected"], "--", color="tab:green", lw=1.5, gid="corrected", label="theorem-4-corrected (holds)")
    bad = c["exact"] < c["claimed"]
    ax.fill_between(x, c["exact"], c["claimed"], where=bad, color="tab:red", alpha=0.3, lw=0, label="violation")
    n0 = float(ce["norm"])
    p, z, s = np.asarray(ce["p"]), np.asarray(ce["z"]), np.asarray(ce["scores"], float)
    b_at = float(bounds.behavior_expectation(p, z, n0, s))
    c_at = float(bounds.trinary_lower(1.0, c["B0"], c["P_plus"], n0, ce["delta"]))
    text = f"pinned ‖δ‖ = {n0:g}: bound {c_at:.4f} > B = {b_at:.4f}"
    _mark(ax, n0, (b_at, c_at), b_at, "pinned_violation", text, (0.02, 0.10))
    ys = np.concatenate([c["exact"], c["claimed"], c["corrected"]])
    pad = 0.08 * max(float(ys.max() - ys.min()), 1e-3)
    ax.set_ylim(float(ys.min()) - pad, float(ys.max()) + pad)
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel(r"$\|\delta\|=\alpha\lambda$ (α = 1)")
    ax.set_ylabel("behavior expectation $B$ (in [-1, 1])")
    ax.set_title(
        f"p = {np.round(p, 4).tolist()}, z = {z.tolist()}, scores = {s.tolist()}, Δ = {ce['delta']:g}", fontsize=8
    )
    what = (
        f"Exact trinary behavior (bounds.behavior_expectation) vs eq. (66) (bounds.trinary_lower) and the "
        f"correction (bounds.trinary_lower_corrected), P+ = {c['P_plus']:g}, B0 = {c['B0']:g}, {x.size} values of "
        f"‖δ‖ from 0 to {x[-1]:g}; the bound exceeds the true B wherever shaded."
    )
    return _finish(fig, st, what, ax, "center right")


# ---------------------------------------------------------------------------------------------------------------
# theorem-6
# ---------------------------------------------------------------------------------------------------------------
def theorem_6_curves(ce: Mapping[str, Any], n: int = N_DENSE) -> dict[str, Any]:
    """Exact response-level behavior over λ, the claimed and corrected thresholds and the guaranteed level."""
    tree = ResponseTree.from_dict(ce["tree"])
    eps, ell, alpha, delta = float(ce["eps"]), int(ce["ell"]), float(ce["alpha"]), float(ce["delta"])
    B0 = float(tree.behavior(0.0))
    lam_claimed = float(bounds.multitoken_threshold(eps, B0, ell, alpha, delta))
    lam_corrected = float(bounds.multitoken_threshold_corrected(eps, tree, ell, alpha, delta))
    lam_pinned = lam_claimed + float(ce.get("extra", 0.0))
    lam = np.linspace(0.0, 1.2 * max(lam_corrected, lam_pinned, 1e-9), n)
    return {
        "lam": lam,
        "B": np.asarray(bounds.response_behavior(tree, alpha * lam)),
        "target": 1.0 - 2.0 * eps,
        "B0": B0,
        "lam_claimed": lam_claimed,
        "lam_corrected": lam_corrected,
        "lam_pinned": lam_pinned,
        "B_pinned": float(tree.behavior(alpha * lam_pinned)),
        "B_corrected": float(tree.behavior(alpha * lam_corrected)),
        "zoom": lambda x: bounds.response_behavior(tree, alpha * np.asarray(x)),
    }


def _zoom_threshold(ax: Any, c: Mapping[str, Any]) -> None:
    """An inset around the claimed threshold, where the violation is too thin to see at full scale."""
    lam, t = c["lam"], c["target"]
    above = np.flatnonzero((lam >= c["lam_claimed"]) & (c["B"] >= t))
    cross = float(lam[above[0]]) if above.size else float(lam[-1])
    half = max(cross - c["lam_claimed"], 1e-3)
    lo, hi = c["lam_claimed"] - 1.5 * half, cross + 1.5 * half
    xs = np.linspace(lo, hi, 101)
    ys = np.asarray(c["zoom"](xs))
    axi = ax.inset_axes((0.45, 0.07, 0.36, 0.36))
    axi.plot(xs, ys, color="k", lw=1.8, gid="zoom_B")
    axi.axhline(t, color="tab:blue", ls="--", lw=1.0)
    axi.axvline(c["lam_claimed"], color="tab:purple", lw=1.2)
    bad = (xs >= c["lam_claimed"]) & (ys < t)
    axi.fill_between(xs, ys, t, where=bad, color="tab:red", alpha=0.4, lw=0)
    axi.plot([c["lam_pinned"]], [c["B_pinned"]], "o", color="tab:red", ms=5)
    axi.set_xlim(lo, hi)
    span = max(abs(float(ys.min()) - t), abs(float(ys.max()) - t), 1e-6)
    axi.set_ylim(t - 1.2 * span, t + 1.2 * span)
    axi.tick_params(labelsize=6)
    axi.set_title(f"zoom: at the claimed threshold B = {c['B_pinned']:.4f} < {t:g}", fontsize=7, color="tab:red")
    axi.grid(alpha=0.3)


def _plot_theorem_6(st: bounds.Statement) -> Any:
    ce = st.counterexample
    c = theorem_6_curves(ce)
    lam = c["lam"]
    fig, ax = new_figure((7.0, 5.8))
    ax.plot(lam, c["B"], color="k", lw=2.2, gid="B", label=r"exact response-level $B_{P_\lambda}$ (true)")
    ax.axhline(
        c["target"], color="tab:blue", ls="--", lw=1.2, gid="target", label=f"guaranteed 1 - 2ε = {c['target']:g}"
    )
    ax.axvline(c["lam_claimed"], color="tab:purple", lw=1.6, label=f"claimed threshold λ = {c['lam_claimed']:.3f}")
    ax.axvline(c["lam_corrected"], color="tab:green", ls="--", lw=1.6, label=f"corrected λ = {c['lam_corrected']:.3f}")
    bad = (lam >= c["lam_claimed"]) & (c["B"] < c["target"])
    ax.fill_between(lam, c["B"], c["target"], where=bad, color="tab:red", alpha=0.3, lw=0, label="violation (claim)")
    ax.plot([c["lam_pinned"]], [c["B_pinned"]], "o", color="tab:red", ms=7, gid="pinned")
    ax.set_xlim(lam[0], lam[-1])
    ax.set_xlabel(r"steering coefficient $\lambda$ (every step steered with $\|\delta\|=\alpha\lambda$)")
    ax.set_ylabel("response-level behavior $B$ (in [-1, 1])")
    ax.set_title(
        f"ℓ = {ce['ell']}, ε = {ce['eps']:g}, α = {ce['alpha']:g}, Δ = {ce['delta']:g}, response-level "
        f"B0 = {c['B0']:.4f}",
        fontsize=8,
    )
    _zoom_threshold(ax, c)
    what = (
        f"Exact response-level behavior of the pinned two-step response tree (bounds.response_behavior) over "
        f"{lam.size} values of λ; claimed threshold bounds.multitoken_threshold = {c['lam_claimed']:.4g}, corrected "
        f"bounds.multitoken_threshold_corrected = {c['lam_corrected']:.4g} (B there = {c['B_corrected']:.4f}). "
        "The claim 'λ ≥ threshold ⇒ B ≥ 1 - 2ε' fails wherever shaded."
    )
    return _finish(fig, st, what, ax, "upper left")


# ---------------------------------------------------------------------------------------------------------------
# proposition-1
# ---------------------------------------------------------------------------------------------------------------
def proposition_1_curves(ce: Mapping[str, Any], n: int = 81) -> dict[str, Any]:
    """Actual hidden-state change after one gradient step, Proposition 1's prediction and the corrected (kernel)
    prediction, over the learning rate :math:`\\eta\\in(0, 4\\eta_{pinned}]` at the final layer.

    With a single scalar hidden coordinate the signed change is returned, else the Frobenius norm over the batch."""
    prob = PreferenceProblem.from_dict(ce)
    etas = np.linspace(0.0, 4.0 * prob.eta, n)[1:]
    a = [prob.actual(e) for e in etas]
    p1 = [prob.proposition_1(e) for e in etas]
    kp = [prob.corrected(e) for e in etas]
    scalar = a[0].size == 1

    def f(xs: list[np.ndarray]) -> np.ndarray:
        return np.array([float(x.ravel()[0]) if scalar else float(np.linalg.norm(x)) for x in xs])

    return {"eta": etas, "actual": f(a), "proposition_1": f(p1), "corrected": f(kp), "scalar": scalar, "prob": prob}


def _plot_proposition_1(st: bounds.Statement) -> Any:
    ce = st.counterexample
    c = proposition_1_curves(ce)
    prob = c["prob"]
    eta = c["eta"]
    fig, ax = new_figure((7.0, 5.8))
    ax.plot(
        eta, c["proposition_1"], color="tab:purple", lw=1.8, gid="proposition_1", label=r"Prop. 1: $-\eta\nabla_hL$"
    )
    ax.plot(eta, c["actual"], color="k", lw=2.2, gid="actual", label=r"actual $\delta h$ after one GD step (true)")
    ax.plot(eta, c["corrected"], "--", color="tab:green", lw=1.5, gid="corrected", label="proposition-1-corrected")
    a0, p0 = prob.actual(), prob.proposition_1()
    rel = float(np.linalg.norm(a0 - p0) / np.linalg.norm(p0)) if np.linalg.norm(p0) > 0 else 0.0
    ya = float(a0.ravel()[0]) if c["scalar"] else float(np.linalg.norm(a0))
    yp = float(p0.ravel()[0]) if c["scalar"] else float(np.linalg.norm(p0))
    text = f"pinned η = {prob.eta:g}: relative error {rel:.3g}"
    _mark(ax, prob.eta, (ya, yp), 0.5 * (ya + yp), "pinned_violation", text, (0.45, 0.55))
    ax.set_xlim(0.0, eta[-1])
    ax.set_xlabel(r"learning rate $\eta$ of the gradient step")
    ax.set_ylabel(
        "final hidden-state change $\\delta h$" if c["scalar"] else r"$\|\delta h\|_F$ over the batch (final layer)"
    )
    ax.set_title(f"{ce.get('model', '?')}, loss = {ce.get('loss', 'difference')}, N = {prob.X.shape[0]}", fontsize=8)
    what = (
        "Proposition 1 is a statement about one gradient step on the parameters (learning rate η), not a function "
        f"of λ: drawn over η (bounds.preference.PreferenceProblem: actual, proposition_1, corrected), {eta.size} "
        f"values of η in (0, {eta[-1]:g}]."
    )
    return _finish(fig, st, what, ax, "best")


# ---------------------------------------------------------------------------------------------------------------
# proposition-kl-second-order-accuracy, corollary-kl-budget-second-order: the KL price of steering
# ---------------------------------------------------------------------------------------------------------------
def kl_curves(ce: Mapping[str, Any], n: int = N_DENSE) -> dict[str, Any]:
    """The exact KL, the second-order law and the rigorous bound over ``‖δ‖`` for a KL counterexample: ``p`` and
    ``z`` with a pinned ``norm``, or with a budget ``tau`` and ``alpha`` (then the two strengths ``α λ_τ^(2)``,
    ``law``, and ``α λ_τ``, ``safe``)."""
    p, z = np.asarray(ce["p"], dtype=float), np.asarray(ce["z"], dtype=float)
    var, spread = (float(v) for v in bounds.projection_spread(p, z))
    marks: dict[str, float] = {}
    if "tau" in ce:
        tau, alpha = float(ce["tau"]), float(ce["alpha"])
        marks["law"] = alpha * float(bounds.lambda_for_kl(tau, alpha, var_z=var))
        marks["safe"] = alpha * float(bounds.lambda_for_kl(tau, alpha, z_range=spread))
    else:
        marks["pinned"] = float(ce["norm"])
    norm = np.linspace(0.0, 1.6 * max(marks.values()), n)
    curves = {
        "norm": norm,
        "exact": bounds.kl_divergence(p, z, norm),
        "law": bounds.kl_second_order(norm, var),
        "upper": bounds.kl_upper(norm, spread),
    }
    return {**curves, "var_z": var, "z_range": spread, "at": marks}


def _plot_kl(st: bounds.Statement) -> Any:
    ce = st.counterexample
    c = kl_curves(ce)
    x, at = c["norm"], c["at"]
    p, z = np.asarray(ce["p"], dtype=float), np.asarray(ce["z"], dtype=float)
    fig, ax = new_figure((7.0, 5.8))
    ax.plot(x, c["exact"], color="k", lw=2.2, gid="exact", label="exact KL(P_λ ‖ P) (true)")
    ax.plot(x, c["law"], color="tab:purple", lw=1.8, gid="law", label="second-order law ½‖δ‖² Var_P(z)")
    ax.plot(x, c["upper"], "--", color="tab:green", lw=1.5, gid="upper", label="rigorous bound ‖δ‖² R_z²/8 (holds)")
    if "tau" in ce:
        tau = float(ce["tau"])
        ax.axhline(tau, color="tab:gray", ls=":", lw=1.4, gid="budget", label=f"budget τ = {tau:g} nats")
        ax.axvline(at["safe"], color="tab:green", ls=":", lw=1.2, gid="safe", label=f"safe α λ_τ = {at['safe']:.3f}")
        kl_at = float(bounds.kl_divergence(p, z, at["law"]))
        text = f"α λ_τ^(2) = {at['law']:.3f}: KL = {kl_at:.4f} > τ"
        _mark(ax, at["law"], (tau, kl_at), kl_at, "pinned_violation", text, (0.03, 0.80))
        what = (
            f"Exact KL (bounds.kl_divergence) against the second-order law (bounds.kl_second_order) and the rigorous "
            f"bound (bounds.kl_upper), Var_P(z) = {c['var_z']:.4g}, R_z = {c['z_range']:.4g}, {x.size} values of ‖δ‖ "
            f"= αλ. The law's strength (bounds.lambda_for_kl with var_z) overspends the budget by the red segment; "
            "the rigorous strength (with z_range) stays within it."
        )
    else:
        n0 = at["pinned"]
        ax.fill_between(
            x, 0.9 * c["exact"], 1.1 * c["exact"], color="tab:blue", alpha=0.15, lw=0, gid="band",
            label="within 10 % of the exact KL (claimed where KL ≤ 0.1)",
        )  # fmt: skip
        ax.axhline(0.1, color="tab:gray", ls=":", lw=1.4, gid="range", label="KL = 0.1 nats (the claim's range)")
        kl_at, law_at = float(bounds.kl_divergence(p, z, n0)), float(bounds.kl_second_order(n0, c["var_z"]))
        text = f"pinned ‖δ‖ = {n0:g}: law {law_at:.4f} vs KL {kl_at:.4f} ({law_at / kl_at - 1:+.0%})"
        _mark(ax, n0, (kl_at, law_at), law_at, "pinned_violation", text, (0.03, 0.80))
        what = (
            f"Exact KL (bounds.kl_divergence) against the second-order law (bounds.kl_second_order) and the rigorous "
            f"bound (bounds.kl_upper), Var_P(z) = {c['var_z']:.4g}, R_z = {c['z_range']:.4g}, {x.size} values of "
            "‖δ‖; the claim puts the law inside the shaded band wherever the KL is at most 0.1 nats."
        )
    top = 1.25 * max(float(c["exact"].max()), float(np.interp(max(at.values()), x, c["law"])))
    ax.set_ylim(0.0, top)
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel("‖δ‖ = αλ")
    ax.set_ylabel("KL(P_λ ‖ P) in nats")
    ax.set_title(f"p = {np.round(p, 4).tolist()}, z = {z.tolist()}", fontsize=8)
    return _finish(fig, st, what, ax, "lower right")


# ---------------------------------------------------------------------------------------------------------------
# Fallback for a failing statement without a plotter
# ---------------------------------------------------------------------------------------------------------------
def _plot_generic(st: bounds.Statement) -> Any:
    ce = st.counterexample
    v = float(st.violation(ce))
    fig, ax = new_figure((7.0, 4.2))
    ax.bar([0], [v], color="tab:red", alpha=0.7, gid="violation", label="violation(counterexample)")
    ax.axhline(0.0, color="k", lw=1.0, label="0: the claim holds exactly")
    ax.set_xticks([0], [st.id])
    ax.set_ylabel("violation (> 0: claim violated; statement's own units)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    _title(fig, st)
    what = (
        "No plotter in paper_figures/fig_counterexamples.py knows this counterexample's structure (keys: "
        f"{', '.join(sorted(ce))}), so it cannot be drawn over a parameter: the bar is the registry's violation "
        "function evaluated on the pinned counterexample."
    )
    _caption(fig, st, what, v)
    return fig


#: statement id -> plotter (a failing statement without one gets :func:`_plot_generic`)
PLOTTERS: dict[str, Callable[[bounds.Statement], Any]] = {
    "theorem-2": _plot_theorem_2,
    "theorem-4": _plot_theorem_4,
    "theorem-6": _plot_theorem_6,
    "corollary-3": _plot_corollary_3,
    "proposition-1": _plot_proposition_1,
    "proposition-kl-second-order-accuracy": _plot_kl,
    "corollary-kl-budget-second-order": _plot_kl,
}


def make_figure(statement: bounds.Statement | str) -> Any:
    """The counterexample figure of one failing statement (a :class:`~bounds.Statement` or its id).

    Raises:
        ValueError: the statement does not have status ``fails`` (it has no counterexample to draw).
        KeyError: unknown id.
    """
    st = bounds.statement(statement) if isinstance(statement, str) else statement
    if st.status != "fails":
        raise ValueError(f"statement must have status 'fails' to have a counterexample figure, {st.id} has {st.status}")
    return PLOTTERS.get(st.id, _plot_generic)(st)


def render(out_dir: str | Path, *, ids: list[str] | None = None) -> list[Path]:
    """Write ``counterexample_<id>.png`` for every failing statement of the registry (or the failing ``ids``)."""
    sts = failing_statements()
    if ids is not None:
        known = {st.id for st in sts}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValueError(f"ids must be failing statements ({', '.join(sorted(known))}), got {unknown}")
        sts = [st for st in sts if st.id in ids]
    return [save(make_figure(st), out_dir, filename(st.id)) for st in sts]


if __name__ == "__main__":
    from paper_figures.build import main

    main(render)
