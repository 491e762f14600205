from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.sitebuild import Site, build


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """The demo site, built once per test session as `make publish` builds it."""
    return build(tmp_path_factory.mktemp("demo") / "output", search=True)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> Callable[..., Site]:
    """`demo_build(SETTING=value, ...)`: the demo content built with publishconf.py and
    those settings, once per session for each set of settings; tests that build the same
    thing share it. Read it only: a test that changes a site builds or copies its own."""
    built: dict[tuple, Site] = {}

    def get(**overrides) -> Site:
        key = tuple(sorted(overrides.items()))
        if key not in built:
            output = tmp_path_factory.mktemp("demo-settings") / "output"
            built[key] = build(output, **overrides)
        return built[key]

    return get


# Hypothesis: `ci` (the default) is derandomised and bounded so `make test` stays
# quick and repeatable; `HYPOTHESIS_PROFILE=fuzz make test PYTEST_ARGS=tests/test_fuzz.py`
# runs a deliberate, long fuzzing session.
import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=3000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=10000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
