"""The theory figures are drawn from the public API and written where asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import bounds
from paper_figures import build, fig2b_theorem1


def test_fig2b_plots_theorem_1_for_each_B0(tmp_path: Path) -> None:
    fig = fig2b_theorem1.make_figure(alpha_delta=2.0)
    lines = fig.axes[0].get_lines()[: len(fig2b_theorem1.B0_VALUES)]
    for line, b0 in zip(lines, fig2b_theorem1.B0_VALUES, strict=True):
        lam, y = line.get_data()
        np.testing.assert_allclose(y, bounds.alignment_lower(2.0, b0, lam, 1.0))
    (path,) = build.main(fig2b_theorem1.render, ["--out", str(tmp_path), "--alpha-delta", "2"])
    assert path.exists() and path.stat().st_size > 10_000
