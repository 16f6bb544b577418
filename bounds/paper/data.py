r"""The authors' published Llama-2-13B curves (the data of the paper's Figures 4 and 5), read by name.

The two tables ship as package data (``bounds/data/paper_llama2_13b/``: ``behavior.csv``, ``helpfulness.csv`` and
the README with their provenance) and are read through :mod:`importlib.resources`, once per process. Each curve is a
:class:`PaperCurve`: its identity (model, vector, and behavior or MMLU subject + measure), the steering coefficients
``lam`` and the published ``mean`` and ``std`` over prompts/questions. :func:`to_curves` turns one behavior and/or one
helpfulness curve into the :class:`~bounds.fit_workflow.Curves` that ``steering-bounds fit`` reads, and
:func:`write_csv` into its CSV file. Imports no lmfit.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .._io import atomic_write
from ..errors import ParameterError
from ..fit_workflow import SINGLE_QUERY, Curves, CurveSet
from .standard_errors import standard_errors

__all__ = [
    "MEASURES",
    "MODELS",
    "STEERING",
    "PaperCurve",
    "Provenance",
    "curve_keys",
    "paper_curve",
    "paper_measurements",
    "paper_provenance",
    "to_curves",
    "to_rows",
    "write_csv",
]

#: the package folder of the data (inside ``bounds``)
DATA_FOLDER = ("data", "paper_llama2_13b")
#: the two models: the pretrained base and the RLHF chat model
MODELS = ("Llama-2-13b", "Llama-2-13b-chat")
#: the two measures of helpfulness: P(correct letter) over the vocabulary, and renormalised over A-D
MEASURES = ("full_vocabulary", "restricted_A-D")
#: which way each model's runs steer (docs/specification.md §14.2): the aligning runs steer the base model towards the
#: aligned set, the misaligning runs steer the chat model away from it; a misaligning curve falls with λ
STEERING: dict[str, Literal["aligning", "misaligning"]] = {"Llama-2-13b": "aligning", "Llama-2-13b-chat": "misaligning"}
#: the selection keywords of :func:`paper_measurements` and the column each one matches
_KEYS = ("quantity", "model", "vector", "behavior", "subject", "measure")


@dataclass(frozen=True)
class Provenance:
    """Where the published curves come from.

    Attributes:
        paper: the paper (arXiv id).
        repository: the authors' GitHub repository.
        commit: the commit the files were taken from.
        commit_date: its date.
        folder: the folder of that repository holding the JSON files.
        package_folder: where the copies live in this package.
        readme: the full text of the shipped README (columns, units, what the paper says about the sample sizes).
    """

    paper: str
    repository: str
    commit: str
    commit_date: str
    folder: str
    package_folder: str
    readme: str

    def to_dict(self) -> dict[str, str]:
        """The fields as a plain dict (``readme`` left out: it is long; read it from the package)."""
        return {k: v for k, v in self.__dict__.items() if k != "readme"}


@dataclass(frozen=True, eq=False)
class PaperCurve:
    r"""One published curve: a mean (and std) over prompts or questions at each steering coefficient.

    Attributes:
        quantity: ``"behavior"`` (Fig. 4) or ``"helpfulness"`` (Fig. 5).
        model: ``"Llama-2-13b"`` or ``"Llama-2-13b-chat"``.
        vector: the steering vector's concept, ``"harmfulness"`` or ``"fairness"``.
        behavior: the behavior scored (``"harmful"``, ``"bias"``), ``None`` for helpfulness.
        subject: the MMLU subject, ``None`` for behavior.
        measure: ``"full_vocabulary"`` or ``"restricted_A-D"``, ``None`` for behavior.
        lam: steering coefficients, increasing (read-only array).
        mean: the published mean at each ``lam`` (behavior in [−1, 1], +1 aligned; helpfulness in [0, 1]).
        std: the published standard deviation over prompts/questions (population std, ``ddof=0``).
        source: the file inside the authors' repository the curve came from.
    """

    quantity: Literal["behavior", "helpfulness"]
    model: str
    vector: str
    behavior: str | None
    subject: str | None
    measure: str | None
    lam: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    source: str

    @property
    def key(self) -> tuple[str, ...]:
        """``(model, vector, behavior)`` or ``(model, vector, subject, measure)``: unique among the curves."""
        tail = (self.behavior,) if self.quantity == "behavior" else (self.subject, self.measure)
        return (self.model, self.vector, *tail)  # type: ignore[return-value]

    @property
    def label(self) -> str:
        """The key joined by ``" / "``, e.g. ``"Llama-2-13b-chat / harmfulness / harmful"``."""
        return " / ".join(self.key)

    @property
    def steering(self) -> Literal["aligning", "misaligning"]:
        """``"aligning"`` (base model) or ``"misaligning"`` (chat model): see :data:`STEERING`."""
        return STEERING[self.model]

    @property
    def sign(self) -> int:
        r"""+1, or −1 for a misaligning behavior curve: ``sign * mean`` is the behavior steered *towards*, which rises
        with :math:`\lambda` as Theorem 1's :math:`\tanh(a\lambda+b_0)` with :math:`a\ge0` does (the authors fitted
        the chat curves this way: their :math:`b_0=-8.35`, docs/specification.md §14.1). Helpfulness: +1."""
        return -1 if self.quantity == "behavior" and self.steering == "misaligning" else 1

    def at(self, lam: float) -> tuple[float, float]:
        """``(mean, std)`` at the grid value ``lam``.

        Raises:
            ParameterError: ``lam`` is not on the curve's grid.
        """
        hit = np.flatnonzero(np.isclose(self.lam, lam, rtol=0.0, atol=1e-9))
        if hit.size == 0:
            raise ParameterError(
                f"lam must be on the grid of {self.label} ({self.lam[0]:g} to {self.lam[-1]:g}), got {lam!r}"
            )
        return float(self.mean[hit[0]]), float(self.std[hit[0]])

    def window(self, lo: float, hi: float) -> np.ndarray:
        r"""The boolean mask of the grid points with :math:`lo\le\lambda\le hi`."""
        return (self.lam >= lo - 1e-9) & (self.lam <= hi + 1e-9)

    def to_curves(self, *, n: int | None = None, oriented: bool = False) -> Curves:
        """This curve alone as :class:`~bounds.fit_workflow.Curves` (see :func:`to_curves`)."""
        pair = {self.quantity: self}
        return to_curves(**pair, n=n, oriented=oriented)


# -- reading ----------------------------------------------------------------------------------------------------------
def _package_file(name: str) -> str:
    return resources.files("bounds").joinpath(*DATA_FOLDER, name).read_text(encoding="utf-8")


def _frozen(values: list[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


def _curves_of(name: str, quantity: Literal["behavior", "helpfulness"]) -> list[PaperCurve]:
    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(_package_file(name))):
        tail = (row["behavior"],) if quantity == "behavior" else (row["subject"], row["measure"])
        groups.setdefault((row["model"], row["vector"], *tail), []).append(row)
    out = []
    for key, rows in groups.items():
        rows.sort(key=lambda r: float(r["lam"]))
        (source,) = {r["source"] for r in rows}
        ident: dict[str, Any] = {"behavior": key[2], "subject": None, "measure": None}
        if quantity == "helpfulness":
            ident = {"behavior": None, "subject": key[2], "measure": key[3]}
        out.append(
            PaperCurve(
                quantity=quantity,
                model=key[0],
                vector=key[1],
                **ident,
                lam=_frozen([float(r["lam"]) for r in rows]),
                mean=_frozen([float(r["mean"]) for r in rows]),
                std=_frozen([float(r["std"]) for r in rows]),
                source=source,
            )
        )
    return out


@functools.cache
def _all_curves() -> tuple[PaperCurve, ...]:
    return (*_curves_of("behavior.csv", "behavior"), *_curves_of("helpfulness.csv", "helpfulness"))


@functools.cache
def paper_provenance() -> Provenance:
    """The provenance of the published curves, with the shipped README's text."""
    return Provenance(
        paper="arXiv 2401.16332",
        repository="dorin133/REPE_alignment_helpfulness_tradeoff",
        commit="decae4e02eaabfed36b6ee2b5a5f5ffc284bd90a",
        commit_date="2024-08-15",
        folder="json_files_to_produce_all_figures/",
        package_folder="bounds/" + "/".join(DATA_FOLDER) + "/",
        readme=_package_file("README.md"),
    )


def _valid_values() -> dict[str, list[str]]:
    curves = _all_curves()
    return {k: sorted({getattr(c, k) for c in curves} - {None}) for k in _KEYS}


def paper_measurements(
    *,
    quantity: str | None = None,
    model: str | None = None,
    vector: str | None = None,
    behavior: str | None = None,
    subject: str | None = None,
    measure: str | None = None,
) -> tuple[PaperCurve, ...]:
    """The published curves, optionally selected by keyword (each ``None`` selects all).

    There are 4 behavior curves (2 models × 2 vectors, λ ∈ [−5, 5] step 0.2) and 24 helpfulness curves (2 models ×
    2 vectors × 3 MMLU subjects × 2 measures, λ ∈ [−10, 10] step 0.5), behavior curves first, in file order.

    Args:
        quantity: ``"behavior"`` or ``"helpfulness"``.
        model: ``"Llama-2-13b"`` or ``"Llama-2-13b-chat"``.
        vector: ``"fairness"`` or ``"harmfulness"``.
        behavior: ``"bias"`` or ``"harmful"`` (selects behavior curves).
        subject: ``"high_school_computer_science"``, ``"international_law"`` or ``"medical_genetics"`` (helpfulness).
        measure: ``"full_vocabulary"`` or ``"restricted_A-D"`` (helpfulness).

    Returns:
        the matching curves, at least one.

    Raises:
        ParameterError: a value that names no curve (the message lists the valid values), or a combination that
            matches none (e.g. ``behavior`` with ``subject``).
    """
    given = {"quantity": quantity, "model": model, "vector": vector, "behavior": behavior, "subject": subject}
    given["measure"] = measure
    chosen = {k: v for k, v in given.items() if v is not None}
    valid = _valid_values()
    for k, v in chosen.items():
        if v not in valid[k]:
            raise ParameterError(f"{k} must be one of {valid[k]}, got {v!r}")
    out = tuple(c for c in _all_curves() if all(getattr(c, k) == v for k, v in chosen.items()))
    if not out:
        what = ", ".join(f"{k}={v!r}" for k, v in chosen.items())
        raise ParameterError(
            f"no published curve matches {what}: behavior= selects behavior curves, subject= and "
            "measure= helpfulness curves"
        )
    return out


def paper_curve(**selection: str) -> PaperCurve:
    """The one published curve the keywords of :func:`paper_measurements` select.

    Raises:
        ParameterError: as :func:`paper_measurements`, or a selection matching several curves (the message says
            which keywords would narrow it).
    """
    unknown = sorted(set(selection) - set(_KEYS))
    if unknown:
        raise ParameterError(f"unknown selection keyword(s) {unknown}; valid: {list(_KEYS)}")
    found = paper_measurements(**selection)
    if len(found) > 1:
        missing = [k for k in _KEYS[1:] if k not in selection and len({getattr(c, k) for c in found}) > 1]
        raise ParameterError(f"the selection matches {len(found)} curves; narrow it with {', '.join(missing)}")
    return found[0]


# -- conversion to the input of `steering-bounds fit` ------------------------------------------------------------------
def _curve_set(curve: PaperCurve, n: int | None, oriented: bool) -> CurveSet:
    sign = curve.sign if oriented else 1
    Y = (sign * np.asarray(curve.mean))[None, :]
    se = None if n is None else standard_errors(curve, n)[None, :]
    return CurveSet(curve.quantity, (SINGLE_QUERY,), np.array(curve.lam), Y, se, 0)


def _check_pair(behavior: PaperCurve | None, helpfulness: PaperCurve | None) -> None:
    if behavior is None and helpfulness is None:
        raise ParameterError("behavior and helpfulness: give at least one curve")
    for name, c in (("behavior", behavior), ("helpfulness", helpfulness)):
        if c is not None and (not isinstance(c, PaperCurve) or c.quantity != name):
            raise ParameterError(f"{name} must be a {name} PaperCurve, got {getattr(c, 'label', type(c).__name__)!r}")


def to_curves(
    behavior: PaperCurve | None = None,
    helpfulness: PaperCurve | None = None,
    *,
    n: int | None = None,
    oriented: bool = False,
) -> Curves:
    r"""One behavior and/or one helpfulness curve as the :class:`~bounds.fit_workflow.Curves` that
    :func:`~bounds.fit_workflow.run_fit` (``steering-bounds fit``) fits: a single query (``"all"``) per quantity.

    Args:
        behavior: a behavior :class:`PaperCurve`, or ``None``.
        helpfulness: a helpfulness :class:`PaperCurve`, or ``None``.
        n: the assumed number of prompts/questions per point: with it, ``se`` holds the standard errors of
            :func:`~bounds.paper.standard_errors` (so ``run_fit`` fits weighted); ``None``: no ``se`` (unweighted).
        oriented: multiply a misaligning behavior curve by −1 (:attr:`PaperCurve.sign`), so that it rises with λ as
            the :math:`a\ge0` of the tanh law needs.

    Returns:
        :class:`~bounds.fit_workflow.Curves` whose ``source`` names the curves and their package folder.

    Raises:
        ParameterError: no curve, a curve of the wrong quantity, or a bad ``n``.
    """
    _check_pair(behavior, helpfulness)
    sets = {
        q: None if c is None else _curve_set(c, n, oriented)
        for q, c in (("behavior", behavior), ("helpfulness", helpfulness))
    }
    labels = " + ".join(c.label for c in (behavior, helpfulness) if c is not None)
    notes = (
        ("behavior: misaligning curve multiplied by -1 (oriented=True)",)
        if oriented and behavior is not None and behavior.sign < 0
        else ()
    )
    return Curves(f"{paper_provenance().package_folder}: {labels}", sets["behavior"], sets["helpfulness"], (), notes)


def to_rows(
    behavior: PaperCurve | None = None,
    helpfulness: PaperCurve | None = None,
    *,
    n: int | None = None,
    oriented: bool = False,
) -> list[dict[str, float]]:
    """The records of :func:`to_curves` in the input schema of ``steering-bounds fit`` (docs/api/fitting.md):
    ``lam``, ``behavior``/``helpfulness`` and, with ``n``, ``behavior_se``/``helpfulness_se``; one record per λ of
    either curve, increasing."""
    data = to_curves(behavior, helpfulness, n=n, oriented=oriented)
    rows: dict[float, dict[str, float]] = {}
    for cs in (data.behavior, data.helpfulness):
        if cs is None:
            continue
        for j, x in enumerate(cs.lam):
            row = rows.setdefault(float(x), {"lam": float(x)})
            row[cs.quantity] = float(cs.Y[0, j])
            if cs.se is not None:
                row[f"{cs.quantity}_se"] = float(cs.se[0, j])
    return [rows[x] for x in sorted(rows)]


def write_csv(
    path: str | Path, behavior: PaperCurve | None = None, helpfulness: PaperCurve | None = None, **options: Any
) -> Path:
    """Write :func:`to_rows` as a CSV file that ``steering-bounds fit`` reads (``options``: ``n``, ``oriented``).

    Returns:
        the path written (atomically).
    """
    rows = to_rows(behavior, helpfulness, **options)
    columns = [
        "lam",
        *[k for k in ("behavior", "behavior_se", "helpfulness", "helpfulness_se") if any(k in r for r in rows)],
    ]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: repr(r[k]) if k in r else "" for k in columns})
    return atomic_write(path, buf.getvalue())


def curve_keys() -> Mapping[str, list[str]]:
    """The valid value of each selection keyword of :func:`paper_measurements`."""
    return _valid_values()
