"""Fixtures of the collaboration tests: the real-socket ones of tests/integration, and a
second editor, so that two people can edit the same episode."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.integration.conftest import (  # noqa: F401 - fixtures, used by name
    ana,
    ana_cookie,
    ana_token,
    bo,
    bo_cookie,
    bo_token,
    episode,
    server,
)
from tests.live_server import api_token, session_cookie


@pytest.fixture
def cy(transactional_db):
    """A second editor."""
    return UserFactory(username="cy", roles=["editors"])


@pytest.fixture
def cy_cookie(cy) -> str:
    return session_cookie(cy)


@pytest.fixture
def cy_token(cy) -> str:
    return api_token(cy)
