"""Hypothesis profiles: deterministic in CI, deeper on demand (HEROES_HYPOTHESIS_PROFILE=deep)."""

import os

from hypothesis import HealthCheck, settings

# The tests take the per-test app fixtures and empty the table at the start of every example.
_COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("ci", _COMMON, max_examples=40, derandomize=True, database=None)
settings.register_profile("deep", _COMMON, max_examples=1000)
settings.load_profile(os.environ.get("HEROES_HYPOTHESIS_PROFILE", "ci"))
