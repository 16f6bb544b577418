r"""Fitting the alignment and helpfulness laws to steering curves with lmfit (docs/specification.md §4, §6.1, §7,
§12.2c, §13.3); the layout of the subpackage is in docs/api/fitting.md.

Names are loaded lazily (PEP 562): ``import bounds.fitting`` and the pure functions of ``lineshapes`` and ``mapping``
do not import lmfit; the models, fits and comparisons do.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: the names re-exported from each submodule (each in its ``__all__``; tests/bounds/test_fitting.py checks)
_EXPORTS = {
    "lineshapes": "derivative_of expectation_form restricted_form tanh_law theorem_2_form",
    "models": "AlignmentModel ExpectationModel RestrictedModel Theorem2Model",
    "estimation": "BootstrapResult ConfidenceIntervals average_curve bootstrap confidence_intervals fit "
    "fit_dataset_average fit_per_query",
    "comparison": "ModelComparison ModelScore compare_alignment compare_helpfulness_near_zero compare_models",
    "mapping": "alpha_delta_from_tanh b0_from_B0 gamma_from_theorem_2 sigma_from_theorem_2",
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names.split()}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Load an exported name from its submodule on first access."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
