"""Shared fixtures: a real Azurite for the session and a fresh, isolated StateStore per test.

`azurite` starts Azurite through devstack (free ports, in-memory data) unless
PIMWARDEN_TEST_STORAGE_CONNECTION names a storage account to use instead; it yields the
connection string. `state_store` gives each test its own table prefix and drops the tables after.
Every test runs behind the loopback guard (tests/netguard.py): an attempt to reach anything else
fails the test, even when the library making it swallows the error.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import settings

from shared.storage import RetryPolicy, StateStore
from tests import netguard

netguard.install()

EXTERNAL_STORAGE = "PIMWARDEN_TEST_STORAGE_CONNECTION"

# CI replays the same examples every run, so a red build always means a change broke something; at a
# desk hypothesis explores new examples each run (that is how it finds bugs; pin them with a test).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[list[str]]:
    """Fail the test when it tried to open a connection (or look up a name) off loopback."""
    netguard.blocked.clear()
    yield netguard.blocked
    attempts, netguard.blocked[:] = list(netguard.blocked), []
    if attempts:
        pytest.fail("tests only touch loopback; blocked: " + "; ".join(attempts), pytrace=False)


async def _no_sleep(_: float) -> None:
    """Retries in tests don't wait; the policy still counts attempts."""


FAST_RETRY = RetryPolicy(attempts=3, sleep=_no_sleep)


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """Connection string of a running Azurite (started and stopped here) or of the external account."""
    external = os.environ.get(EXTERNAL_STORAGE, "").strip()
    if external:
        yield external
        return
    from devstack.azurite import Azurite

    with Azurite.start() as running:
        yield running.connection_string


@pytest.fixture
async def state_store(azurite: str) -> AsyncIterator[StateStore]:
    """A StateStore with a unique table prefix; its tables are deleted afterwards."""
    store = StateStore.from_connection_string(azurite, f"t{uuid.uuid4().hex[:16]}", retry=FAST_RETRY)
    try:
        yield store
    finally:
        await store.delete_tables()
        await store.close()
