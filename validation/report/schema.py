"""The check report as typed records: :class:`CheckReport` and its :class:`Curve`, :class:`Parameter`,
:class:`BoundEntry` and :class:`Fit`, each with ``to_json``/``from_json`` (the layout is in ``docs/check.md``).

Each quantity is stored once. Version 2 dropped the copies that version 1 stored twice (listed in
:data:`V1_DUPLICATES`); a version-1 ``report.json`` is read by leaving them out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from bounds._io import jsonable, read_records
from bounds.errors import ParameterError

from ..measure import Verdict

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "Assumption1",
    "Assumption2",
    "Assumption3",
    "Assumption4",
    "BoundEntry",
    "CandidateLambda",
    "CandidateLambdas",
    "CheckReport",
    "Curve",
    "Fit",
    "KLBudget",
    "KLDivergence",
    "Parameter",
    "ParameterSpread",
    "Slopes",
    "Steerability",
    "drop_duplicates",
]

SCHEMA = "steering-bounds/check-report"
SCHEMA_VERSION = 2
SUPPORTED_SCHEMA_VERSIONS = (1, SCHEMA_VERSION)

#: Keys of a version-1 report that repeat a quantity stored elsewhere (``*``: every entry); where each is kept:
#: ``docs/check.md``, "Format versions".
V1_DUPLICATES = tuple(
    tuple(path.split("."))
    for path in """
    verdict.assumption_1 verdict.assumption_2 verdict.assumption_3 verdict.assumption_4
    assumptions.assumption_1.alpha assumptions.assumption_1.details.alpha_side assumptions.assumption_1.details.verdict
    assumptions.assumption_1.details.alpha.mean assumptions.assumption_1.details.alpha.se
    assumptions.assumption_1.details.alpha.ci_low assumptions.assumption_1.details.alpha.ci_high
    assumptions.assumption_2.Delta assumptions.assumption_2.details.verdict
    assumptions.assumption_2.details.verdict_soft
    assumptions.assumption_2.details.delta.mean assumptions.assumption_2.details.delta.se
    assumptions.assumption_2.details.delta.ci_low assumptions.assumption_2.details.delta.ci_high
    assumptions.assumption_2.details.delta.n assumptions.assumption_2.details.margin_min
    assumptions.assumption_2.details.fraction_positive_margin assumptions.assumption_2.details.margin_summary.mean
    assumptions.assumption_2.details.mean_gap_summary.mean assumptions.assumption_2.details.rho_summary.mean
    assumptions.assumption_2.details.soft_margin_summary.mean
    assumptions.assumption_3.sigma assumptions.assumption_3.beta assumptions.assumption_3.gamma
    assumptions.assumption_3.details.sigma assumptions.assumption_3.details.sigma_pooled_differences
    assumptions.assumption_3.details.ratio_pooled_to_within assumptions.assumption_3.details.tests
    assumptions.assumption_3.details.skewness assumptions.assumption_3.details.excess_kurtosis
    assumptions.assumption_3.details.k assumptions.assumption_3.details.answer_in_top_k_fraction
    assumptions.assumption_3.details.verdict
    assumptions.assumption_3.details.beta_summary.mean assumptions.assumption_3.details.beta_summary.se
    assumptions.assumption_3.details.beta_summary.ci_low assumptions.assumption_3.details.beta_summary.ci_high
    assumptions.assumption_3.details.beta_summary.n assumptions.assumption_3.details.gamma_summary.mean
    assumptions.assumption_3.details.gamma_summary.se assumptions.assumption_3.details.gamma_summary.ci_low
    assumptions.assumption_3.details.gamma_summary.ci_high assumptions.assumption_3.details.gamma_summary.n
    assumptions.assumption_3.spread_by_lambda.lam assumptions.assumption_3.spread_by_lambda.delta_norm
    bounds.*.comparison.lam behavior.tokens.behavior behavior.tokens.warnings
    """.split()
)


def _drop(obj: Any, path: tuple[str, ...]) -> None:
    if not isinstance(obj, dict):
        return
    head, *rest = path
    if not rest:
        obj.pop(head, None)
        return
    for value in obj.values() if head == "*" else [obj.get(head)]:
        _drop(value, tuple(rest))


@dataclass
class _Record:
    """A record whose JSON holds the keys it was read with or, when built in code, its non-``None`` fields and
    ``ALWAYS``."""

    ALWAYS: ClassVar[tuple[str, ...]] = ()
    _keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False, kw_only=True)

    def _written(self, name: str) -> bool:
        if self._keys is not None:
            return name in self._keys
        return name in self.ALWAYS or getattr(self, name) is not None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "") -> Any:
        names = [f.name for f in fields(cls) if f.name != "_keys"]
        unknown = [k for k in data if k not in names]
        if unknown:
            raise ParameterError(f"report: {where or cls.__name__} has unknown keys {unknown}; known: {names}")
        return cls(**data, _keys=tuple(k for k in names if k in data))

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_keys" and self._written(f.name)}


@dataclass
class Parameter(_Record):
    """An estimated parameter: ``estimate`` with its SE and interval (``ci_*`` for means, ``low``/``high`` for
    probabilities at ``level``), how it was obtained, and the λ it rests on (``window`` in words, ``window_lam`` the
    grid points; absent in reports written before they were recorded)."""

    estimate: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    low: float | None = None
    high: float | None = None
    level: float | None = None
    n: int | None = None
    kind: str | None = None
    method: str | None = None
    side: str | None = None
    definition: str | None = None
    note: str | None = None
    degenerate_queries: int | None = None
    all_degenerate: bool | None = None
    window: str | None = None
    window_lam: list[float] | None = None


@dataclass
class ParameterSpread(_Record):
    """How the headline estimate ``parameters.<key>`` moves with the λ it is read at over a window
    (:class:`validation.measure.Spread`): ``values`` at each of ``lam``, their extremes ``low``/``high`` (at
    ``lam_low``/``lam_high``) and those relative to the headline value ``reference`` (``rel_low = low / reference -
    1``)."""

    window: str | None = None
    lam: list[float] | None = None
    values: list[float | None] | None = None
    low: float | None = None
    high: float | None = None
    lam_low: float | None = None
    lam_high: float | None = None
    reference: float | None = None
    rel_low: float | None = None
    rel_high: float | None = None


@dataclass
class Slopes(_Record):
    """One quantity's per-query slopes against λ on the steerability window and their summary across prompts
    (:class:`validation.measure.SlopeSummary`: per-query ``slope``/``se``/``ci_*``/``n_points``; the distribution;
    the prompts moving the wrong way with a Wilson interval; Spearman's ρ with the drive αΔ_q)."""

    label: str | None = None
    slope: list[float | None] | None = None
    se: list[float | None] | None = None
    ci_low: list[float | None] | None = None
    ci_high: list[float | None] | None = None
    n_points: list[int] | None = None
    n_queries: int | None = None
    n_defined: int | None = None
    n_with_interval: int | None = None
    mean: float | None = None
    mean_se: float | None = None
    mean_ci_low: float | None = None
    mean_ci_high: float | None = None
    median: float | None = None
    q25: float | None = None
    q75: float | None = None
    min: float | None = None
    max: float | None = None
    n_wrong_way: int | None = None
    n_right_way: int | None = None
    wrong_way_share: float | None = None
    wrong_way_low: float | None = None
    wrong_way_high: float | None = None
    spearman_rho: float | None = None
    spearman_p: float | None = None
    spearman_n: int | None = None
    spearman_note: str | None = None
    level: float | None = None


@dataclass
class KLBudget(_Record):
    """The λ > 0 that spends the KL budget ``tau`` (:class:`validation.measure.KLBudget`): ``measured`` (where the
    measured mean KL on MMLU reaches τ; ``None`` with ``measured_reason``), ``second_order`` and the safe
    ``safe_mean``/``safe_every_query`` (:func:`bounds.kl.lambda_for_kl` with the summaries named in ``note``), and
    ``at``: per one of those λ, the measured curves there (``lam``, ``kl_mmlu``, ``B_*``, ``H_*``; linear
    interpolation on the grid, ``None`` outside it)."""

    tau: float | None = None
    measured: float | None = None
    measured_reason: str | None = None
    second_order: float | None = None
    safe_mean: float | None = None
    safe_every_query: float | None = None
    var_z_mean: float | None = None
    z_range_rms: float | None = None
    z_range_max: float | None = None
    alpha: float | None = None
    note: str | None = None
    at: dict[str, dict[str, float | None]] | None = None


@dataclass
class KLDivergence(_Record):
    """KL(P_λ‖P_0) of the next-token distribution over the full vocabulary (:func:`validation.measure.kl_prediction`):
    ``measured`` per data set (``mmlu``, ``piqa_context``, ``piqa_continuation``, ``benign``: per λ ``mean``, ``se``,
    ``ci_low``, ``ci_high``, ``n``), the per-query ``var_z``/``z_range`` of z = U δ̂ read at ``lam_ref``, the mean
    second-order prediction with the measured ‖δ_q‖ (``predicted_norm``) and with α|λ| (``predicted_alpha``), the
    mean rigorous bound (``bound``) and the share of queries above their own bound; where measured and predicted part
    (``first_off_*`` by ``factor``, ``first_above_bound_*``, in words in ``regime``) and the ``budget``. The benign
    matched prompts of the behavior data (``measured["benign"]``) have their own ``benign_var_z``/``benign_z_range``
    and mean predictions ``benign_predicted_norm``/``benign_predicted_alpha``/``benign_bound``; ``benign_reason``
    says why they are missing (``bias``); all ``None`` in reports written before them."""

    definition: str | None = None
    lam_ref: float | None = None
    level: float | None = None
    var_z: list[float | None] | None = None
    z_range: list[float | None] | None = None
    measured: dict[str, dict[str, Any]] | None = None
    predicted_norm: list[float | None] | None = None
    predicted_alpha: list[float | None] | None = None
    bound: list[float | None] | None = None
    above_bound_fraction: list[float | None] | None = None
    factor: float | None = None
    first_off_positive: float | None = None
    first_off_negative: float | None = None
    first_above_bound_positive: float | None = None
    first_above_bound_negative: float | None = None
    regime: str | None = None
    budget: KLBudget | None = None
    benign_var_z: list[float | None] | None = None
    benign_z_range: list[float | None] | None = None
    benign_predicted_norm: list[float | None] | None = None
    benign_predicted_alpha: list[float | None] | None = None
    benign_bound: list[float | None] | None = None
    benign_reason: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "") -> Any:
        if isinstance(data.get("budget"), Mapping):
            data = {**data, "budget": _typed(KLBudget, data["budget"], f"{where or 'kl'}.budget")}
        return super().from_json(data, where)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.budget is not None and "budget" in out:
            out["budget"] = self.budget.to_json()
        return out


@dataclass
class CandidateLambda(_Record):
    """One candidate strength of :class:`CandidateLambdas`: ``key`` and ``title``, the ``lam`` (``None`` with
    ``reason`` when absent; ``reason`` may also be a caveat on a λ), what it is for (``purpose``), the
    ``assumptions`` it rests on, and ``at``: the measured curves there (``kl_mmlu``, ``B_*``, ``H_*``; linear
    interpolation on the grid)."""

    key: str | None = None
    title: str | None = None
    lam: float | None = None
    reason: str | None = None
    purpose: str | None = None
    assumptions: str | None = None
    at: dict[str, float | None] | None = None


@dataclass
class CandidateLambdas(_Record):
    """The candidate strengths a user can defend (``docs/check.md``, "A λ you can defend"): the ``target_behavior``
    of the target row and Corollary 1, and one :class:`CandidateLambda` per candidate in ``rows``."""

    target_behavior: float | None = None
    rows: list[CandidateLambda] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "") -> Any:
        rows = data.get("rows")
        if isinstance(rows, list):
            here = where or "candidates"
            data = {**data, "rows": [_typed(CandidateLambda, v, f"{here}.rows[{i}]") for i, v in enumerate(rows)]}
        return super().from_json(data, where)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.rows is not None and "rows" in out:
            out["rows"] = [row.to_json() for row in self.rows]
        return out


@dataclass
class Steerability(_Record):
    """Per-query steerability (:func:`validation.measure.steerability`): the window the slopes are fitted on
    (``window`` in words, ``window_lam`` its grid points, ``rule`` why), the per-query drive αΔ_q they are ranked
    against, and ``measures`` (:class:`Slopes` per quantity: ``B_single_binary``, ``logit_difference``)."""

    window: str | None = None
    window_lam: list[float] | None = None
    rule: str | None = None
    drive: list[float | None] | None = None
    drive_definition: str | None = None
    level: float | None = None
    measures: dict[str, Slopes] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "") -> Any:
        measures = data.get("measures")
        if isinstance(measures, Mapping):
            typed = {k: _typed(Slopes, v, f"{where or 'steerability'}.measures.{k}") for k, v in measures.items()}
            data = {**data, "measures": typed}
        return super().from_json(data, where)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.measures is not None and "measures" in out:
            out["measures"] = {k: v.to_json() for k, v in self.measures.items()}
        return out


@dataclass
class Curve:
    """A per-λ measurement: mean and SE across ``n`` queries (``None``/NaN: undefined at that λ)."""

    mean: list[float | None]
    se: list[float | None]
    n: int
    label: str
    unit: str = ""
    legend: str = ""
    n_per_lambda: list[int] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "") -> Curve:
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        keys = ("mean", "se", "n", "n_per_lambda", "label", "unit", "legend")
        return {k: getattr(self, k) for k in keys}


@dataclass
class BoundEntry(_Record):
    """A bound evaluated per query and averaged over the ``n_queries_used`` queries that satisfy its hypotheses,
    compared (``comparison``: :meth:`validation.measure.Comparison.to_dict` without ``lam``) with curve
    ``measured``."""

    ALWAYS: ClassVar[tuple[str, ...]] = ("values", "comparison")

    title: str = ""
    measured: str | None = None
    status: str | None = None
    note: str | None = None
    n_queries_used: int | None = None
    excluded: dict[str, str] | None = None
    kind: str | None = None
    applicable: bool | None = None
    values: list[float | None] | None = None
    measured_mean_used: list[float | None] | None = None
    measured_se_used: list[float | None] | None = None
    comparison: dict[str, Any] | None = None
    per_query_violation_fraction: list[float | None] | None = None
    reason: str | None = None
    legend: str | None = None


@dataclass
class Fit(_Record):
    """An lmfit fit of a dataset-average curve (``error`` alone when it failed)."""

    model: str | None = None
    params: dict[str, dict[str, float | None]] | None = None
    curve: list[float | None] | None = None
    aic: float | None = None
    redchi: float | None = None
    n_queries: int | None = None
    measured_counterpart: dict[str, Any] | None = None
    error: str | None = None


class _Assumption(_Record):
    """An assumption's entry: its :class:`~validation.measure.Verdict` and measurements (every field is written)."""

    def _written(self, name: str) -> bool:
        return self._keys is None or name in self._keys

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "") -> Any:
        if isinstance(data.get("verdict"), Mapping):
            data = {**data, "verdict": Verdict(**data["verdict"])}
        return super().from_json(data, where)


@dataclass
class Assumption1(_Assumption):
    """Assumption 1: ``linear_range`` ``[-L-, L+]`` where the mean ‖δ‖ stays within the tolerance of α|λ| (``None``:
    none) and ``details`` (:meth:`validation.measure.Assumption1Result.to_dict`; α is ``parameters.alpha``)."""

    verdict: Verdict
    linear_range: list[float] | None = None
    details: dict[str, Any] | None = None


@dataclass
class Assumption2(_Assumption):
    """Assumption 2 on the full λ grid (NaN at λ = 0): query means of the hard margin, mean gap and projections, the
    smallest margin, the fraction separated, and ``details`` (:meth:`validation.measure.Assumption2Result.to_dict`;
    Δ is ``parameters.Delta``)."""

    verdict: Verdict
    margin_mean: list[float | None] | None = None
    margin_min: list[float | None] | None = None
    mean_gap_mean: list[float | None] | None = None
    fraction_positive_margin: list[float | None] | None = None
    z_aligned_mean: list[float | None] | None = None
    z_misaligned_mean: list[float | None] | None = None
    z_aligned_min_mean: list[float | None] | None = None
    z_misaligned_max_mean: list[float | None] | None = None
    details: dict[str, Any] | None = None


@dataclass
class Assumption3(_Assumption):
    """Assumption 3 on the MMLU top-k projections at ``lambda_ref`` (:class:`validation.measure.Assumption3Result`:
    the figure's data here, the rest in ``details``; σ, β, γ are in ``parameters``) and ``spread_by_lambda`` (the
    within-query SD of the top-k logit changes per λ against σ‖δ‖)."""

    verdict: Verdict
    sigma_pooled_differences: float | None = None
    ratio_pooled_to_within: float | None = None
    tests: dict[str, dict[str, float | None]] | None = None
    skewness: float | None = None
    excess_kurtosis: float | None = None
    qq_theoretical: list[float | None] | None = None
    qq_sample: list[float | None] | None = None
    differences: list[list[float | None]] | None = None
    top_k_mass_mean: float | None = None
    k: int | None = None
    lambda_ref: float | None = None
    answer_in_top_k_fraction: float | None = None
    details: dict[str, Any] | None = None
    spread_by_lambda: dict[str, Any] | None = None


@dataclass
class Assumption4(_Assumption):
    """Assumption 4 on the full λ grid: query means of the misclassified mass ρ and of the soft margin."""

    verdict: Verdict
    rho_mean: list[float | None] | None = None
    soft_margin_mean: list[float | None] | None = None


#: the type of each entry of ``CheckReport.assumptions``
ASSUMPTIONS = {
    "assumption_1": Assumption1,
    "assumption_2": Assumption2,
    "assumption_3": Assumption3,
    "assumption_4": Assumption4,
}


def _typed(cls: Any, data: Any, where: str) -> Any:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ParameterError(f"report: {where} must be an object, got {type(data).__name__}")
    try:
        return cls.from_json(data, where)
    except TypeError as exc:
        raise ParameterError(f"report: {where}: {exc}") from exc


@dataclass
class CheckReport:
    """The report of ``steering-bounds check`` (``report.json``): what was measured, with its provenance."""

    created: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    behavior: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Curve] = field(default_factory=dict)
    assumptions: dict[str, Assumption1 | Assumption2 | Assumption3 | Assumption4] = field(default_factory=dict)
    parameters: dict[str, Parameter | None] = field(default_factory=dict)
    chance: dict[str, dict[str, Any]] = field(default_factory=dict)
    bounds: dict[str, BoundEntry] = field(default_factory=dict)
    fits: dict[str, Fit] = field(default_factory=dict)
    summary: str = ""
    figures: list[str] = field(default_factory=list)
    layers: list[int] | None = None
    layer_convention: str | None = None
    lambda_grid: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    vectors: dict[str, Any] = field(default_factory=dict)
    runtime_seconds: dict[str, float] = field(default_factory=dict)
    stage_seconds_when_computed: dict[str, float] = field(default_factory=dict)
    command: str | None = None
    spreads: dict[str, ParameterSpread] = field(default_factory=dict)
    steerability: Steerability | None = None
    kl: KLDivergence | None = None
    candidates: CandidateLambdas | None = None

    @property
    def verdicts(self) -> dict[str, str]:
        """``"pass"``, ``"fail"`` or ``"n/a"`` per assumption, from its verdict."""
        out = {}
        for name in ASSUMPTIONS:
            entry = self.assumptions.get(name)
            passed = None if entry is None else entry.verdict.passed
            out[name] = "n/a" if passed is None else ("pass" if passed else "fail")
        return out

    @property
    def lam(self) -> list[float]:
        """The λ grid (``lambda_grid.values``; empty when not recorded)."""
        return list(self.lambda_grid.get("values") or [])

    def to_json(self) -> dict[str, Any]:
        """The JSON object (strict: numpy values as Python, non-finite floats as ``None``)."""

        out: dict[str, Any] = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("curves", "assumptions", "parameters", "bounds", "fits", "spreads"):
                value = {k: None if v is None else v.to_json() for k, v in value.items()}
            elif f.name in _NESTED and value is not None:
                value = value.to_json()
            if f.name == "summary":
                out["verdict"] = {"summary": value}
            else:
                out[f.name] = value
        return jsonable(out)

    @classmethod
    def from_json(cls, data: Any) -> CheckReport:
        """Read a report object of schema version 1 or 2.

        Raises:
            bounds.errors.ParameterError: (a ``ValueError``) not a check report, an unsupported schema version or a
                malformed entry (the message names it).
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"report: expected a check report object, got {type(data).__name__}")
        if data.get("schema") != SCHEMA:
            raise ParameterError(f"report['schema'] must be {SCHEMA!r}, got {data.get('schema')!r}")
        version = data.get("schema_version")
        if isinstance(version, bool) or version not in SUPPORTED_SCHEMA_VERSIONS:
            supported = list(SUPPORTED_SCHEMA_VERSIONS)
            raise ParameterError(f"report['schema_version'] = {version!r} is not supported (supported: {supported})")
        d = copy.deepcopy(dict(data))
        if version == 1:
            drop_duplicates(d)
        kw: dict[str, Any] = {}
        for f in fields(cls):
            value = (d.get("verdict") or {}).get("summary") if f.name == "summary" else d.get(f.name)
            if value is None:
                continue
            if f.name == "assumptions":
                unknown = [k for k in value if k not in ASSUMPTIONS]
                if unknown:
                    raise ParameterError(f"report: assumptions has unknown keys {unknown}; known: {list(ASSUMPTIONS)}")
                value = {k: _typed(ASSUMPTIONS[k], v, f"assumptions.{k}") for k, v in value.items()}
            elif f.name in ("curves", "parameters", "bounds", "fits", "spreads"):
                typ = {"curves": Curve, "parameters": Parameter, "bounds": BoundEntry, "fits": Fit}.get(
                    f.name, ParameterSpread
                )
                value = {k: _typed(typ, v, f"{f.name}.{k}") for k, v in value.items()}
            elif f.name in _NESTED:
                value = _typed(_NESTED[f.name], value, f.name)
            kw[f.name] = value
        return cls(**kw)

    @classmethod
    def read(cls, path: str | Path) -> CheckReport:
        """Read ``report.json`` of ``steering-bounds check``.

        Raises:
            bounds.errors.MissingFileError: (a ``FileNotFoundError``) no such file.
            bounds.errors.ParameterError: (a ``ValueError``) not JSON or not a readable check report.
        """
        data = read_records(path, "report", single=True)
        try:
            return cls.from_json(data)
        except ParameterError as exc:
            raise ParameterError(f"report: {str(path)!r}: {exc}") from exc


#: the report's fields that are one typed record (absent in reports written before they existed)
_NESTED: dict[str, type] = {"steerability": Steerability, "kl": KLDivergence, "candidates": CandidateLambdas}


def drop_duplicates(report: dict[str, Any]) -> dict[str, Any]:
    """Remove from ``report`` (a version-1 layout, in place) the keys of :data:`V1_DUPLICATES`; return it."""
    for path in V1_DUPLICATES:
        _drop(report, path)
    return report
