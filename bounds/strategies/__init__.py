"""Public hypothesis strategies: instances that satisfy *exactly* a statement's hypotheses.

Importing this package imports :mod:`hypothesis` (install ``steering-bounds[strategies]``); ``import bounds`` does not.
Each strategy's docstring says which hypothesis each restriction encodes. None is narrowed beyond its statement's
own hypotheses: a strategy that made a false statement pass would be a bug. Use them to property-test your own
variants, e.g.::

    from hypothesis import given
    from bounds.strategies import hard_margin_instances

    @given(hard_margin_instances())
    def test_my_bound(inst):
        assert inst.behavior(inst.norm) >= my_bound(inst.B0, inst.norm, inst.delta)

The submodules (one per family of hypotheses, ``docs/api/strategies.md``) are re-exported here.
"""

from __future__ import annotations

from importlib import import_module

from ._common import *  # noqa: F403
from ._common import __all__ as _common_all

__all__ = list(_common_all)
for _name in ("_alignment", "_helpfulness", "_multitoken", "_preference", "_assumptions", "_kl"):
    _mod = import_module(f"{__name__}.{_name}")
    globals().update({k: getattr(_mod, k) for k in _mod.__all__})
    __all__ += list(_mod.__all__)
