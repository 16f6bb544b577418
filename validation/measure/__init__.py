"""Measurements of the theory's assumptions and curves as pure functions of arrays (numpy/scipy only: nothing here
loads a model or imports torch). Each result is a frozen dataclass with ``to_dict()``; methods, thresholds and
conventions: ``docs/api/validation-measure.md``."""

from __future__ import annotations

from . import assumption1, assumption2, assumption3, candidates, curves, kl, windows
from . import steerability as _steerability  # the name `steerability` is the function below
from ._common import AcrossQueries, Verdict, across_queries
from .assumption1 import *  # noqa: F403
from .assumption2 import *  # noqa: F403
from .assumption3 import *  # noqa: F403
from .candidates import *  # noqa: F403
from .curves import *  # noqa: F403
from .kl import *  # noqa: F403
from .steerability import *  # noqa: F403
from .windows import *  # noqa: F403

__all__ = ["AcrossQueries", "Verdict", "across_queries"]
__all__ += assumption1.__all__ + assumption2.__all__ + assumption3.__all__ + curves.__all__
__all__ += _steerability.__all__ + windows.__all__ + kl.__all__ + candidates.__all__
