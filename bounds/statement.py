"""The :class:`Statement` type: one definition, assumption or claim of THEORY.md with its math and its evidence.

A statement carries its sympy expression (built lazily, so ``import bounds`` stays cheap), a numeric vectorised twin
implemented independently of sympy (tests cross-check the two), its provenance tag, and for claims the status
(``holds``/``fails``) that the test suite settles. Expansions are derived by sympy when asked:

* :meth:`Statement.series` -- the small-λ Taylor polynomial, ``sympy.series(expr, lambda, 0, order + 1)``;
* :meth:`Statement.asymptotic` -- the large-λ expansion in powers of a gauge function ``g(λ) → 0`` declared by the
  statement (``exp(-αΔλ)`` for the tanh law, ``λ^{-2}`` for Theorem 2): the coefficients ``c_j`` of
  ``expr ≈ c_0 + c_1 g + c_2 g^2 + …`` are computed one by one as limits, ``c_j = lim (expr - Σ_{i<j} c_i g^i)/g^j``.

Statements that are not a closed form in λ (limits, thresholds, piecewise forms, maxima over prefixes, predicates)
say so in ``not_closed_form`` and their expansion methods raise :class:`NotClosedForm` with that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import sympy as sp

from . import symbols as S

Kind = Literal["definition", "assumption", "theorem", "corollary", "proposition", "replacement"]
Status = Literal["holds", "fails"]
CLAIM_KINDS = ("theorem", "corollary", "proposition", "replacement")
PROVENANCE_TAGS = (
    "VERBATIM-PROSE",
    "VERBATIM-CODE",
    "RECONSTRUCTED-H",
    "RECONSTRUCTED-M",
    "RECONSTRUCTED-L",
    "CORRECTED",
)


class NotClosedForm(ValueError):
    """Raised when an expansion is asked of a statement that is not a closed form in λ."""


@dataclass(frozen=True)
class Statement:
    """One statement of THEORY.md.

    Attributes:
        id: the THEORY §0 id, e.g. ``"theorem-1"``.
        name: a short human name.
        kind: definition, assumption, theorem, corollary, proposition or replacement.
        section: where THEORY.md states it (e.g. ``"§4"``).
        provenance: THEORY.md tags, e.g. ``("VERBATIM-PROSE", "RECONSTRUCTED-H")``.
        statement: the statement in words, with its hypotheses.
        hypotheses: which hypotheses the statement assumes (the strategies encode exactly these).
        lhs: the quantity bounded/defined, as a sympy expression (e.g. ``B_{P_λ}(q)``).
        relation: ``">="``, ``"<="``, ``"="``, ``"=>"`` (threshold implication) or ``"pred"`` (a predicate).
        build: zero-argument builder of the right-hand side sympy expression.
        parameters: symbol name -> valid domain, for every parameter of the expression.
        status: ``holds``/``fails`` for claims; ``None`` for definitions and assumptions.
        replaces: for a replacement, the id of the statement it replaces.
        numeric: the public numeric (numpy, vectorised) twin, or ``None``.
        not_closed_form: why the statement has no expansion in λ (``None`` if it has one).
        gauge: builder of the gauge ``g(λ) → 0`` used by :meth:`asymptotic` (``None``: no large-λ expansion).
        evidence: test node ids that settle the status (claims) or exercise the predicate (assumptions).
        counterexample: for claims that fail, the simplest counterexample found by search (pinned in a regression).
        violation: evaluates a counterexample dict: how far the claim is violated on it (``> 0`` means violated).
        notes: caveats shown in the docs.
    """

    id: str
    name: str
    kind: Kind
    section: str
    provenance: tuple[str, ...]
    statement: str
    lhs: Callable[[], sp.Expr]
    relation: str
    build: Callable[[], sp.Expr]
    parameters: Mapping[str, str]
    hypotheses: tuple[str, ...] = ()
    status: Status | None = None
    replaces: str | None = None
    numeric: Callable[..., Any] | None = None
    not_closed_form: str | None = None
    gauge: Callable[[], sp.Expr] | None = None
    evidence: tuple[str, ...] = ()
    counterexample: Mapping[str, Any] | None = None
    violation: Callable[[Mapping[str, Any]], float] | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind in CLAIM_KINDS:
            if self.status not in ("holds", "fails"):
                raise ValueError(f"claim {self.id} needs status 'holds' or 'fails', got {self.status!r}")
        elif self.status is not None:
            raise ValueError(f"{self.kind} {self.id} has no status, got {self.status!r}")
        if (self.kind == "replacement") != (self.replaces is not None):
            raise ValueError(f"{self.id}: exactly the replacements carry 'replaces'")
        if self.status == "fails" and (self.counterexample is None or self.violation is None):
            raise ValueError(f"{self.id} fails: it needs a pinned counterexample and a violation function")
        unknown = [t for t in self.provenance if t not in PROVENANCE_TAGS]
        if unknown or not self.provenance:
            raise ValueError(f"{self.id}: provenance tags must come from {PROVENANCE_TAGS}, got {self.provenance}")

    # -- math ---------------------------------------------------------------------------------------------------
    @cached_property
    def expr(self) -> sp.Expr:
        """The right-hand side as a sympy expression (built on first use)."""
        return self.build()

    @property
    def is_claim(self) -> bool:
        return self.kind in CLAIM_KINDS

    @property
    def closed_form_in_lambda(self) -> bool:
        return self.not_closed_form is None

    def _require_closed_form(self) -> None:
        if self.not_closed_form is not None:
            raise NotClosedForm(f"{self.id} is not a closed form in lambda: {self.not_closed_form}")

    def series(self, order: int = 2) -> sp.Expr:
        """Small-λ Taylor polynomial of the right-hand side up to and including ``λ**order``, derived by sympy."""
        self._require_closed_form()
        if isinstance(order, bool) or not isinstance(order, int) or order < 0:
            raise ValueError(f"order must be an integer >= 0, got {order!r}")
        poly = sp.series(self.expr, S.lam, 0, order + 1).removeO()
        return sp.collect(sp.expand(poly), S.lam, evaluate=True)

    def series_coefficients(self, order: int = 2) -> list[sp.Expr]:
        """``[c_0, …, c_order]`` with ``expr = Σ c_j λ^j + O(λ^{order+1})``, each simplified."""
        poly = sp.expand(self.series(order))
        return [sp.simplify(poly.coeff(S.lam, j)) for j in range(order + 1)]

    def asymptotic(self, terms: int = 2) -> sp.Expr:
        """Large-λ (λ → +∞) expansion ``Σ_{j<terms} c_j g(λ)^j`` in the statement's gauge ``g``, derived by sympy."""
        self._require_closed_form()
        if self.gauge is None:
            raise NotClosedForm(f"{self.id} declares no large-lambda gauge")
        if isinstance(terms, bool) or not isinstance(terms, int) or terms < 1:
            raise ValueError(f"terms must be an integer >= 1, got {terms!r}")
        g = self.gauge()
        expr = self.expr.rewrite(sp.exp)
        total = sp.Integer(0)
        for j in range(terms):
            c = sp.simplify(sp.limit(sp.simplify((expr - total) / g**j), S.lam, sp.oo))
            if c.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
                raise NotClosedForm(f"{self.id}: the gauge {g} does not match the large-lambda behaviour (term {j})")
            total = total + c * g**j
        return total

    # -- renderings ---------------------------------------------------------------------------------------------
    def latex(self) -> str:
        lhs = sp.latex(self.lhs(), symbol_names=S.latex_names)
        rhs = sp.latex(self.expr, symbol_names=S.latex_names)
        rel = {">=": r"\geq", "<=": r"\leq", "=": "=", "=>": r"\Longrightarrow", "pred": r":\iff"}[self.relation]
        return f"{lhs} {rel} {rhs}"

    def text(self) -> str:
        lhs, rhs = sp.sstr(self.lhs()), sp.sstr(self.expr)
        rel = {">=": ">=", "<=": "<=", "=": "=", "=>": "==>", "pred": ":<=>"}[self.relation]
        return f"{lhs} {rel} {rhs}"

    def expansion_text(self, order: int = 2) -> str:
        if not self.closed_form_in_lambda:
            return f"n/a ({self.not_closed_form})"
        return _ascending(self.series(order)) + f" + O(lambda**{order + 1})"

    def to_dict(self, *, expansions: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "section": self.section,
            "provenance": list(self.provenance),
            "statement": self.statement,
            "hypotheses": list(self.hypotheses),
            "latex": self.latex(),
            "text": self.text(),
            "parameters": dict(self.parameters),
            "closed_form_in_lambda": self.closed_form_in_lambda,
            "evidence": list(self.evidence),
        }
        if self.is_claim:
            d["status"] = self.status
        if self.replaces:
            d["replaces"] = self.replaces
        if self.not_closed_form:
            d["not_closed_form"] = self.not_closed_form
        elif expansions:
            d["series_order_2"] = sp.sstr(self.series(2))
            d["series_order_2_latex"] = sp.latex(self.series(2))
            if self.gauge is not None:
                d["asymptotic"] = sp.sstr(self.asymptotic(2))
        if self.counterexample is not None:
            d["counterexample"] = dict(self.counterexample)
        if self.numeric is not None:
            d["numeric"] = f"{self.numeric.__module__}.{self.numeric.__qualname__}"
        if self.notes:
            d["notes"] = list(self.notes)
        return d


def symbol_domains(*names: str) -> dict[str, str]:
    """The documented domains of the named parameters (see :data:`bounds.symbols.domains`)."""
    return {n: S.domains[n] for n in names}


def _ascending(poly: sp.Expr) -> str:
    """Plain text of a polynomial in λ, terms in ascending powers of λ."""
    poly = sp.expand(poly)
    terms = []
    for j in range(int(sp.degree(poly, S.lam)) + 1 if poly.has(S.lam) else 1):
        c = sp.factor(poly.coeff(S.lam, j))
        if c != 0:
            terms.append(sp.sstr(c) if j == 0 else f"({sp.sstr(c)})*lambda" + (f"**{j}" if j > 1 else ""))
    return " + ".join(terms) or "0"
