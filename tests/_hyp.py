"""Helpers for property tests: example counts that scale with the hypothesis profile, counterexample search, and
counted property tests (:func:`counted`: a test fails when it checked fewer non-degenerate instances than stated)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import find, settings
from hypothesis import strategies as st

T = TypeVar("T")

#: multiply example counts in the "dev" profile (longer local search)
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "dev" else 1


def many(n: int) -> settings:
    """Settings for a property test that checks ``n`` generated instances (``n * 10`` in the dev profile)."""
    return settings(max_examples=n * SCALE)


def search(
    strategy: st.SearchStrategy[T],
    violated: Callable[[T], bool],
    max_examples: int = 2000,
    shrink_budget: int | None = None,
) -> T:
    """Find a counterexample by search: hypothesis generates instances and shrinks the first violation found.

    Deterministic in the ``ci`` profile (``derandomize``), so the simplest example found is reproducible and can be
    pinned in a regression test. Raises ``hypothesis.errors.NoSuchExample`` when none is found.

    ``shrink_budget`` caps the predicate calls made after the first violation (for an expensive predicate, e.g. a
    Monte-Carlo study: the shrinker may otherwise call it thousands of times); the search then returns the simplest
    violation found within the budget. Violations already found keep their verdict (hypothesis replays the last one).
    """
    condition = violated
    if shrink_budget is not None:
        seen: dict[str, bool] = {}
        after_first: list[int] = []

        def condition(x: T) -> bool:  # the budgeted form of `violated`
            key = repr(x)
            if key in seen:
                return seen[key]
            if after_first and after_first[0] >= shrink_budget:
                return False
            if after_first:
                after_first[0] += 1
            seen[key] = bool(violated(x))
            if seen[key] and not after_first:
                after_first.append(0)
            return seen[key]

    return find(
        strategy,
        condition,
        settings=settings(max_examples=max_examples * SCALE, database=None, derandomize=SCALE == 1, deadline=None),
    )


# ---------------------------------------------------------------------------------------------------------------------
# Counted property tests: "N examples" means N non-degenerate instances of the statement
# ---------------------------------------------------------------------------------------------------------------------
class TooFewInstances(AssertionError):
    """A counted property test checked fewer non-degenerate instances of its statement than the statement states."""


@dataclass
class InstanceCount:
    """What one run of a counted property test checked: instances of the statement, and how many were non-degenerate."""

    checked: int = 0
    nondegenerate: int = 0


_RUNNING: list[InstanceCount] = []

#: node id -> the count of the last completed run in this process (read by the unit test of the mechanism)
LAST_RUN: dict[str, InstanceCount] = {}


def checked(nondegenerate: bool) -> None:
    """Record, inside a :func:`counted` test, that this example was an instance of the statement and was checked.

    Call it after the example's assertions passed; ``nondegenerate`` is the statement's own non-degeneracy predicate
    (documented on the statement, ``Statement.nondegenerate``). Outside a counted test it does nothing.
    """
    if _RUNNING:
        _RUNNING[-1].checked += 1
        _RUNNING[-1].nondegenerate += bool(nondegenerate)


def node_id(test: Callable[..., object]) -> str:
    """The pytest node id ``tests/<file>.py::<name>`` of a test function defined in a module under ``tests``."""
    return f"{test.__module__.replace('.', '/')}.py::{test.__name__}"


def counted(statement_id: str, minimum: int | None = None) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorator, above ``@many``/``@given``: the property test fails (:class:`TooFewInstances`) unless it checked at
    least the stated number of non-degenerate instances of ``statement_id`` (each reported by :func:`checked`).

    The stated number is ``bounds.statement(statement_id).min_instances[<this test's node id>]`` (``minimum``
    overrides it, for the unit test of this mechanism), times the profile's :data:`SCALE`. The decorated function
    carries ``counted_for`` (the statement id) and ``counted_node`` (its node id) for the registry's meta-test.
    """

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        node = node_id(test)

        @functools.wraps(test)
        def run(*args: object, **kwargs: object) -> None:
            if minimum is not None:
                need = minimum
            else:
                import bounds

                need = bounds.statement(statement_id).min_instances[node]
            count = InstanceCount()
            _RUNNING.append(count)
            try:
                test(*args, **kwargs)
            finally:
                _RUNNING.pop()
            LAST_RUN[node] = count
            if count.nondegenerate < need * SCALE:
                raise TooFewInstances(
                    f"{node} checked {count.nondegenerate} non-degenerate instances of {statement_id} "
                    f"({count.checked} instances in all), fewer than the stated {need * SCALE}"
                )

        run.counted_for = statement_id  # type: ignore[attr-defined]
        run.counted_node = node  # type: ignore[attr-defined]
        return run

    return decorate
