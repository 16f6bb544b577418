"""Figs. 4 and 5 redrawn from the authors' published Llama-2-13B curves (paper_figures, kind "paper-data"): one panel
per published curve, the plotted points the published means, the plotted lines the fits of :mod:`bounds.paper` (and
the expectation law an independent least squares), and the PNGs written by ``steering-bounds figures``.

The fits take seconds: they run once per module (fixtures) and the figures reuse them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bounds.paper import NEAR_ZERO_WINDOW, RESTRICTED_K, paper_measurements
from paper_figures import FIGURES, build
from paper_figures import fig4_paper_curves as fig4
from paper_figures import fig5_paper_curves as fig5

MIN_PNG_BYTES = 10_000


@pytest.fixture(scope="module")
def behavior():
    return fig4.behavior_fits()


@pytest.fixture(scope="module")
def helpfulness():
    return fig5.helpfulness_fits()


def _line(ax, gid: str):
    found = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    assert len(found) == 1, f"expected one line with gid {gid!r} in {ax.get_title()!r}, got {len(found)}"
    return found[0]


def _caption(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def test_registered_as_paper_data_with_a_gallery_image_name() -> None:
    for fid, module in (("fig4-paper", fig4), ("fig5-paper", fig5)):
        assert FIGURES[fid] == (module.__name__, "paper-data")
        assert module.FILENAME == f"{module.__name__.rsplit('.', 1)[-1]}.png"  # the name the gallery test expects
        assert callable(module.render) and module.__doc__.splitlines()[0]


def test_fig4_one_panel_per_behavior_curve_with_both_fits(behavior) -> None:
    fig = fig4.make_figure(behavior)
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert len(panels) == len(behavior.behavior) == len(paper_measurements(quantity="behavior")) == 4
    for cf in behavior.behavior:
        c = cf.curve
        (ax,) = [ax for ax in panels if ax.get_title().startswith(f"{c.model}: {c.vector} vector")]
        lam, values = cf.grid()
        for w in ("unweighted", "weighted"):
            x, y = _line(ax, w).get_data()
            np.testing.assert_allclose(x, lam)
            np.testing.assert_allclose(y, cf.sign * values[w])  # drawn as published: −tanh for a chat curve
            a, b0 = (cf.fits[w].params[k].value for k in ("a", "b0"))
            np.testing.assert_allclose(y, cf.sign * np.tanh(a * lam + b0), atol=1e-12)
        # the fitted points are the published means inside the window, as published
        inside = c.window(*cf.window)
        px, py = _line(ax, "published").get_data()
        np.testing.assert_allclose(px, c.lam[inside])
        np.testing.assert_allclose(py, c.mean[inside])
        np.testing.assert_allclose(cf.sign * np.asarray(py), cf.y)
    text = _caption(fig)
    assert behavior.provenance.commit[:7] in text and f"n = {behavior.settings['n']}" in text
    assert f"λ ∈ [{cf.window[0]:g}, {cf.window[1]:g}]" in text


def test_fig5_one_panel_per_helpfulness_curve_with_its_laws(helpfulness) -> None:
    fig = fig5.make_figure(helpfulness)
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert len(panels) == len(helpfulness.helpfulness) == len(paper_measurements(quantity="helpfulness")) == 24
    restricted = {cf.curve.key: cf for cf in helpfulness.restricted}
    assert len(restricted) == 12
    rows, cols = fig5._layout(helpfulness)
    grid = np.array(fig.axes).reshape(len(rows), len(cols))
    for cf in helpfulness.helpfulness:
        c = cf.curve
        ax = grid[rows.index((c.model, c.vector)), cols.index((c.subject, c.measure))]
        lam, values = cf.grid()
        x, y = _line(ax, "theorem-2").get_data()
        np.testing.assert_allclose(x, lam)
        np.testing.assert_allclose(y, values["unweighted"])
        # the expectation law p0(1 - c λ²) is linear in λ²: its unweighted fit is the least-squares line in λ²
        near = c.window(-NEAR_ZERO_WINDOW, NEAR_ZERO_WINDOW)
        slope, intercept = np.polyfit(np.asarray(c.lam)[near] ** 2, np.asarray(c.mean)[near], 1)
        xe, ye = _line(ax, "expectation").get_data()
        assert xe.min() == -NEAR_ZERO_WINDOW and xe.max() == NEAR_ZERO_WINDOW
        np.testing.assert_allclose(ye, intercept + slope * xe**2, atol=1e-6)
        gids = {ln.get_gid() for ln in ax.get_lines()}
        if c.measure == "restricted_A-D":
            _, vr = restricted[c.key].grid()
            np.testing.assert_allclose(_line(ax, "restricted").get_data()[1], vr["unweighted"])
            chance = [ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), 1.0 / RESTRICTED_K)]
            assert chance, "the A–D panel draws the chance level 1/k"
        else:
            assert "restricted" not in gids
    assert "|λ| ≤ " + f"{NEAR_ZERO_WINDOW:g}" in _caption(fig)


def test_figures_command_writes_both_pngs(tmp_path: Path, monkeypatch, behavior, helpfulness) -> None:
    monkeypatch.setattr(fig4, "behavior_fits", lambda: behavior)  # the module's fits, not a second run
    monkeypatch.setattr(fig5, "helpfulness_fits", lambda: helpfulness)
    paths = build.build_all(tmp_path, only=["fig4-paper", "fig5-paper"], progress=False)
    assert [p.name for p in paths] == [fig4.FILENAME, fig5.FILENAME]
    for p in paths:
        assert p.parent == tmp_path and p.stat().st_size > MIN_PNG_BYTES
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
