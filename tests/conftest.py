"""Shared test configuration: hypothesis profiles.

* ``ci`` (default): derandomized (a fixed seed per test), no example database -- CI cannot flake.
* ``dev``: random seeds and 10x the examples, for a longer local search: ``HYPOTHESIS_PROFILE=dev pytest``.

Property tests set their example counts through :func:`tests._hyp.many`, which scales with the profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
