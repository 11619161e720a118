"""Fixtures for the engine's integration tests (helpers live in simenv.py)."""

from __future__ import annotations

import pytest

from graphsim.app import GraphSim
from shared.engine.services import Services
from shared.storage import StateStore

from .simenv import demo_sim, make_services


@pytest.fixture
def sim() -> GraphSim:
    """A fresh graphsim over the demo tenant."""
    return demo_sim()


@pytest.fixture
def services(sim: GraphSim, state_store: StateStore, azurite: str) -> Services:
    """Engine services over graphsim (demo tenant) and a fresh store."""
    return make_services(sim, state_store, azurite)
