"""The :class:`Statement` type: one definition, assumption or claim of ``docs/specification.md`` with its sympy
expression (built lazily), its numeric twin, provenance, page prose and, for claims, the status the test suite settles.
Statements that are not a closed form in λ say so in ``not_closed_form``; their expansions raise :class:`NotClosedForm`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import sympy as sp

from . import domains as S

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
    "DERIVED",
)


class NotClosedForm(ValueError):
    """Raised when an expansion is asked of a statement that is not a closed form in λ."""


@dataclass(frozen=True)
class Statement:
    """One statement of the specification (``docs/specification.md``).

    Attributes:
        id: the statement id of docs/specification.md §0, e.g. ``"theorem-1"``.
        name: a short human name.
        kind: definition, assumption, theorem, corollary, proposition or replacement.
        section: where docs/specification.md states it (e.g. ``"§4"``).
        provenance: the specification's provenance tags, e.g. ``("VERBATIM-PROSE", "RECONSTRUCTED-H")``.
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
        further_counterexamples: for claims that fail, more pinned counterexamples beside the simplest one, found by
            search with the degenerate cases excluded from the search's own predicate (each a dict ``violation``
            evaluates, with a ``what`` that gives the violation's size in numbers; each pinned in a regression test).
        nondegenerate: for claims that hold, what makes an instance non-degenerate (an instance on which the claim
            says more than a triviality, e.g. ``Delta ||delta|| > 0``); the counted property tests count those.
        min_instances: for claims that hold, evidence test node id -> the minimum number of non-degenerate instances
            that property test checks (it fails with fewer: ``tests/_hyp.py::counted``).
        notes: caveats shown in the docs.
        paper: what the paper says: its words (quoted where they survive; math in square brackets was
            reconstructed) and what it claims, without this project's judgement. This and the next two fields are
            Markdown with ``$…$`` math, rendered as they are on the statement's page.
        reconstruction: what was reconstructed (the paper's displayed equations are lost), from what, and how
            confidently (the provenance tags in words).
        decision: what the project decided about the statement (the form it implements, the conventions it fixes,
            the replacement it ships) and why.
        settled_by: for claims, the one test of ``evidence`` that settles the status: a ``@given`` property test over
            generated instances of exactly the hypotheses (``holds``), or a search that finds and shrinks a violation
            (``fails``).
        settled_how: what that test compares, in words.
        proof: for claims, a proof sketch (Markdown with ``$…$`` math) following docs/specification.md; where the
            proof breaks, the sketch says so.
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
    further_counterexamples: tuple[Mapping[str, Any], ...] = ()
    nondegenerate: str = ""
    min_instances: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = field(default=())
    paper: str = ""
    reconstruction: str = ""
    decision: str = ""
    settled_by: str = ""
    settled_how: str = ""
    proof: str = ""

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
        if self.further_counterexamples and self.status != "fails":
            raise ValueError(f"{self.id}: only a failing claim carries further counterexamples")
        if (self.nondegenerate or self.min_instances) and self.status != "holds":
            raise ValueError(f"{self.id}: only a claim that holds states non-degenerate instance counts")
        if self.is_claim != bool(self.settled_by and self.settled_how and self.proof):
            raise ValueError(f"{self.id}: exactly the claims carry settled_by, settled_how and a proof sketch")
        unknown_tests = [t for t in self.min_instances if t not in self.evidence]
        if self.settled_by and self.settled_by not in self.evidence:
            unknown_tests.append(self.settled_by)
        if unknown_tests:
            raise ValueError(f"{self.id}: settled_by or min_instances name tests outside its evidence: {unknown_tests}")
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

    @cached_property
    def _memo(self) -> dict[tuple[str, int], list[sp.Expr]]:
        """Simplified coefficients already derived (simplifying is the slow part; pages, JSON and tests reuse them)."""
        return {}

    def series_coefficients(self, order: int = 2) -> list[sp.Expr]:
        """``[c_0, …, c_order]`` with ``expr = Σ c_j λ^j + O(λ^{order+1})``, each simplified."""
        key = ("series", order)
        if key not in self._memo:
            poly = sp.expand(self.series(order))
            self._memo[key] = [sp.simplify(poly.coeff(S.lam, j)) for j in range(order + 1)]
        return list(self._memo[key])

    def asymptotic(self, terms: int = 2) -> sp.Expr:
        """Large-λ (λ → +∞) expansion ``Σ_{j<terms} c_j g(λ)^j`` in the statement's gauge ``g``, derived by sympy."""
        coefficients = self.asymptotic_coefficients(terms)
        assert self.gauge is not None  # asymptotic_coefficients raised NotClosedForm if there is none
        g = self.gauge()
        return sp.Add(*(c * g**j for j, c in enumerate(coefficients)))

    def asymptotic_coefficients(self, terms: int = 2) -> list[sp.Expr]:
        """``[c_0, …, c_{terms-1}]`` of :meth:`asymptotic`, ``expr ≈ Σ c_j g(λ)^j`` as λ → +∞, each a limit."""
        self._require_closed_form()
        if self.gauge is None:
            raise NotClosedForm(f"{self.id} declares no large-lambda gauge")
        if isinstance(terms, bool) or not isinstance(terms, int) or terms < 1:
            raise ValueError(f"terms must be an integer >= 1, got {terms!r}")
        key = ("asymptotic", terms)
        if key in self._memo:
            return list(self._memo[key])
        g = self.gauge()
        expr = self.expr.rewrite(sp.exp)
        total = sp.Integer(0)
        out: list[sp.Expr] = []
        for j in range(terms):
            c = sp.simplify(sp.limit(sp.simplify((expr - total) / g**j), S.lam, sp.oo))
            if c.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
                raise NotClosedForm(f"{self.id}: the gauge {g} does not match the large-lambda behaviour (term {j})")
            out.append(c)
            total = total + c * g**j
        self._memo[key] = out
        return list(out)

    # -- renderings ---------------------------------------------------------------------------------------------
    def latex(self) -> str:
        r"""The statement in LaTeX, ``lhs rel rhs`` (:func:`bounds.domains.latex`), followed by the definition of each
        abbreviation it uses (``S_2 = \sum_{b\neq a^*} P(b\mid q)^2``, :data:`bounds.domains.latex_definitions`)."""
        lhs, rhs = self.lhs(), self.expr
        rel = {">=": r"\geq", "<=": r"\leq", "=": "=", "=>": r"\Longrightarrow", "pred": r":\iff"}[self.relation]
        tex = f"{S.latex(lhs)} {rel} {S.latex(rhs)}"
        names = {str(x) for x in (lhs.free_symbols | rhs.free_symbols)}
        defined = [rf"{S.latex(sp.Symbol(n))} = {d}" for n, d in S.latex_definitions.items() if n in names]
        return tex + "".join(rf",\qquad {d}" for d in defined)

    def series_latex(self, order: int = 2) -> str:
        """The small-λ expansion in LaTeX, collected by powers of λ: ``c_0 + c_1 λ + … + O(λ^{order+1})`` with each
        coefficient ``c_j`` in its shortest form (:func:`short_latex`)."""
        terms = [(short_latex(c), j) for j, c in enumerate(self.series_coefficients(order)) if c != 0]
        return collected_latex(terms, r"\lambda") + rf" + O(\lambda^{{{order + 1}}})"

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
            d["series_order_2_latex"] = self.series_latex(2)
            if self.gauge is not None:
                d["asymptotic"] = sp.sstr(self.asymptotic(2))
        if self.counterexample is not None:
            d["counterexample"] = dict(self.counterexample)
        if self.further_counterexamples:
            d["further_counterexamples"] = [dict(c) for c in self.further_counterexamples]
        if self.nondegenerate:
            d["nondegenerate"] = self.nondegenerate
        if self.min_instances:
            d["min_instances"] = dict(self.min_instances)
        if self.numeric is not None:
            d["numeric"] = f"{self.numeric.__module__}.{self.numeric.__qualname__}"
        if self.notes:
            d["notes"] = list(self.notes)
        for key in ("paper", "reconstruction", "decision"):  # Markdown with $…$ math, as on the statement's page
            if getattr(self, key):
                d[key] = getattr(self, key).strip()
        return d


def symbol_domains(*names: str) -> dict[str, str]:
    """The documented domains of the named parameters (see :data:`bounds.domains.domains`)."""
    return {n: S.domains[n] for n in names}


def short_latex(expr: sp.Expr) -> str:
    """LaTeX of the shortest of an expression's simplified, factored and expanded forms (:func:`bounds.domains.latex`)
    and, for a long one, of its sums collected in each symbol with factored coefficients: a series coefficient as a
    reader would write it, not sympy's expanded sum over a common denominator."""
    forms = [expr, sp.simplify(expr), sp.factor(expr), sp.factor(sp.simplify(expr)), sp.expand(expr)]
    if len(S.latex(forms[-2])) > 300:
        expanded = sp.expand(expr)
        forms += [sp.collect(expanded, x, func=sp.factor) for x in sorted(expr.free_symbols, key=str)]
    return min((S.latex(f) for f in forms), key=lambda tex: (_visual_length(tex), tex))


def _visual_length(tex: str) -> int:
    """Length of LaTeX as read: without ``\\left``/``\\right``, braces and spaces."""
    return len(re.sub(r"\\left|\\right|\s|[{}]", "", tex))


def collected_latex(terms: list[tuple[str, int]], var: str) -> str:
    """``c_0 + c_1 x + c_2 x^2 + …`` in LaTeX from ``(coefficient LaTeX, power)`` pairs and the LaTeX ``var`` of
    ``x``; a coefficient that is a sum is bracketed, a coefficient ``1`` or ``-1`` is shown as a sign."""
    out = ""
    for coeff, j in terms:
        power = "" if j == 0 else var if j == 1 else f"{var}^{{{j}}}"
        neg = coeff.startswith("- ") and not _is_sum(coeff[2:])
        body = coeff[2:] if neg else coeff
        if j > 0 and body == "1":
            body = ""
        elif j > 0 and _is_sum(body):
            body = rf"\left({body}\right)"
        term = f"{body} {power}".strip()
        out += (" - " if neg else " + ") + term if out else ("- " if neg else "") + term
    return out or "0"


def _is_sum(tex: str) -> bool:
    """Whether LaTeX has a ``+``/``-`` at brace depth 0 after its first character (a sum, to bracket)."""
    depth = 0
    for i, ch in enumerate(tex):
        depth += (ch in "{([") - (ch in "})]")
        if depth == 0 and i > 0 and ch in "+-":
            return True
    return False


def _ascending(poly: sp.Expr) -> str:
    """Plain text of a polynomial in λ, terms in ascending powers of λ."""
    poly = sp.expand(poly)
    terms = []
    for j in range(int(sp.degree(poly, S.lam)) + 1 if poly.has(S.lam) else 1):
        c = sp.factor(poly.coeff(S.lam, j))
        if c != 0:
            terms.append(sp.sstr(c) if j == 0 else f"({sp.sstr(c)})*lambda" + (f"**{j}" if j > 1 else ""))
    return " + ".join(terms) or "0"
