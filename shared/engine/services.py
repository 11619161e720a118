"""The engine's dependencies in one small container, and the factory that builds it from settings.

Everything the engine touches comes through here (settings, state store, Graph port, clock, profiles,
sleep), so tests swap in graphsim, Azurite, a fixed clock and a no-wait sleep. Built lazily, never at
import; the Graph gateway is cached per event loop like the runtime's other clients.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared import runtime
from shared.clock import Clock, SystemClock
from shared.domain.profiles import ProfileSet, load_profiles
from shared.engine.config import EngineConfig
from shared.engine.ports import GraphPort
from shared.settings import Settings
from shared.storage import StateStore

Sleep = Callable[[float], Awaitable[None]]
_gateways: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GraphPort] = weakref.WeakKeyDictionary()


def new_holder_id() -> str:
    """A lease holder id for one run: host name plus a random suffix."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


@dataclass
class Services:
    """What one engine run needs."""

    settings: Settings
    config: EngineConfig
    store: StateStore
    graph: GraphPort
    profiles: ProfileSet
    clock: Clock = field(default_factory=SystemClock)
    sleep: Sleep = asyncio.sleep
    holder: str = field(default_factory=new_holder_id)


def load_profile_set(settings: Settings) -> ProfileSet:
    """The profiles file named by PIMWARDEN_PROFILES_PATH, else the shipped one."""
    return load_profiles(Path(settings.profiles_path) if settings.profiles_path else None)


def engine_config(settings: Settings, env: Mapping[str, str] | None = None) -> EngineConfig:
    """The engine settings read from `env` (default os.environ)."""
    return EngineConfig.from_env(os.environ if env is None else env, high_value_tag=settings.high_value_tag)


def graph_gateway(settings: Settings) -> GraphPort:
    """The GraphGateway over msgraph-sdk, built once per event loop; its 429 pauses are shared with every
    other instance through the state store (shared/storage/throttle.py), and once the write budget is
    reached its writes are paced at Graph's documented rate split between the instances (pacing.py)."""
    loop = asyncio.get_running_loop()
    gateway = _gateways.get(loop)
    if gateway is None:
        from shared.graph.calls import CallRunner
        from shared.graph.client import build_graph_client
        from shared.graph.gateway import GraphGateway

        client = build_graph_client(settings.graph_base_url, runtime.graph_credential())
        runner = CallRunner(shared_pause=runtime.state_store().throttle, instance=new_holder_id())
        gateway = _gateways[loop] = GraphGateway(client, runner)
    return gateway


def build_services(env: Mapping[str, str] | None = None) -> Services:
    """Services from the runtime's settings and clients (what the timer function and the CLI use)."""
    settings = runtime.settings(env)
    return Services(
        settings=settings,
        config=engine_config(settings, env),
        store=runtime.state_store(),
        graph=graph_gateway(settings),
        profiles=load_profile_set(settings),
    )
