"""One script per figure of the paper (``steering-bounds figures`` runs them all; see ``paper_figures/README.md``).

:data:`FIGURES` maps a figure id to its module and kind:

* ``"theory"``: ``render(out_dir) -> list[Path]`` from :mod:`bounds` alone;
* ``"paper-data"``: ``render(out_dir) -> list[Path]`` from the authors' published curves shipped with
  :mod:`bounds.paper` alone (no model, no report);
* ``"report"``: ``render(report, out_dir) -> list[Path]`` from a :class:`validation.report.CheckReport` (the
  figures that ``steering-bounds check`` writes too, in :mod:`validation.report.figures`);
* ``"model"``: ``render(out_dir, *, loaded, report, **sizes) -> list[Path]``: computes on a model (sampled answers,
  HumanEval), reusing the report's vectors, layers and λ grid.
"""

from __future__ import annotations

FIGURES: dict[str, tuple[str, str]] = {
    "fig1": ("paper_figures.fig1_tradeoff", "theory"),
    "fig2b": ("paper_figures.fig2b_theorem1", "theory"),
    "fig3b": ("paper_figures.fig3b_theorem2", "theory"),
    "helpfulness-corrected": ("paper_figures.fig_helpfulness_corrected", "theory"),
    "counterexamples": ("paper_figures.fig_counterexamples", "theory"),
    "fig4": ("validation.report.figures.fig4_behavior", "report"),
    "fig4-paper": ("paper_figures.fig4_paper_curves", "paper-data"),
    "fig5": ("validation.report.figures.fig5_helpfulness", "report"),
    "fig5-paper": ("paper_figures.fig5_paper_curves", "paper-data"),
    "fig6-8": ("validation.report.figures.fig6_8_delta_norm", "report"),
    "fig9-10": ("validation.report.figures.fig9_10_noise", "report"),
    "fig11-12": ("validation.report.figures.fig11_12_separation", "report"),
    "steerability": ("validation.report.figures.steerability", "report"),
    "kl": ("validation.report.figures.kl", "report"),
    "fig13-15": ("paper_figures.fig13_15_sampled", "model"),
    "fig17": ("paper_figures.fig17_humaneval", "model"),
}
