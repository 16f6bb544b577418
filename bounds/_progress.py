"""Progress on stderr: a tqdm bar per stage, or one line per finished unit. tqdm is imported inside the function
(``import bounds`` stays light)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["progress_bar", "stderr_progress"]


def progress_bar(stage: str, enabled: bool = True) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback that draws a tqdm bar on stderr (nothing when not ``enabled``)."""
    from tqdm import tqdm

    bar: Any = None
    t0 = time.time()
    form = "{desc}: {n_fmt}/{total_fmt} rows |{bar:20}| {elapsed} elapsed, ETA {remaining}"

    def report(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # the total is known at the first call; the clock started with the stage
            bar = tqdm(total=total, desc=stage, bar_format=form, disable=not enabled, file=sys.stderr)
            bar.start_t = t0
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return report


def stderr_progress(event: object) -> None:
    """A callback printing ``str(event)`` as one line on stderr (e.g. a :class:`bounds.coverage.StudyProgress`)."""
    print(event, file=sys.stderr, flush=True)
