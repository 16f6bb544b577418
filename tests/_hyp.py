"""Helpers for property tests: example counts that scale with the hypothesis profile, and counterexample search."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from hypothesis import find, settings
from hypothesis import strategies as st

T = TypeVar("T")

#: multiply example counts in the "dev" profile (longer local search)
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "dev" else 1


def many(n: int) -> settings:
    """Settings for a property test that checks ``n`` generated instances (``n * 10`` in the dev profile)."""
    return settings(max_examples=n * SCALE)


def search(strategy: st.SearchStrategy[T], violated: Callable[[T], bool], max_examples: int = 2000) -> T:
    """Find a counterexample by search: hypothesis generates instances and shrinks the first violation found.

    Deterministic in the ``ci`` profile (``derandomize``), so the simplest example found is reproducible and can be
    pinned in a regression test. Raises ``hypothesis.errors.NoSuchExample`` when none is found.
    """
    return find(
        strategy,
        violated,
        settings=settings(max_examples=max_examples * SCALE, database=None, derandomize=SCALE == 1, deadline=None),
    )
