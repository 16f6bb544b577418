"""The report of ``steering-bounds check``: the typed :class:`CheckReport` (:mod:`.schema`), built by
:func:`validation.report.analysis.analyse`, written by :func:`write_report` as ``report.json``, ``report.md``
(:mod:`.markdown`) and the figures of :mod:`.figures`."""

from .figures import FIGURE_NAMES, plot_figures
from .markdown import render_markdown, write_report
from .schema import SCHEMA, SCHEMA_VERSION, CheckReport

__all__ = ["FIGURE_NAMES", "SCHEMA", "SCHEMA_VERSION", "CheckReport", "plot_figures", "render_markdown", "write_report"]
