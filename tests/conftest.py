from __future__ import annotations

import pytest

from tests.sitebuild import Site, build


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """The demo site, built once per test session as `make publish` builds it."""
    return build(tmp_path_factory.mktemp("demo") / "output", search=True)
