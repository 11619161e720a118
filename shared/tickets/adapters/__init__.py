"""Source adapters by name, chosen by the route (`POST /api/tickets/{source}`), never by a header.

Each source has an `adapt(payload, config) -> Decision` function, a config dataclass, and the name
of the app setting holding its JSON mapping. `load_source(name, mapping_json)` returns an adapter
bound to its parsed configuration; unknown names raise `UnknownSource`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.tickets.adapters import generic, jira, servicenow
from shared.tickets.adapters.config import load_config
from shared.tickets.decisions import Decision
from shared.tickets.errors import TicketError


class UnknownSource(TicketError, KeyError):
    """No adapter is registered under this source name (answer 404, not 400)."""


@dataclass(frozen=True)
class SourceSpec:
    """How to build one source: its adapter, its config type and the setting that maps it."""

    name: str
    adapt: Callable[[object, Any], Decision]
    config_type: type
    mapping_setting: str


@dataclass(frozen=True)
class BoundAdapter:
    """An adapter with its configuration: `adapter(payload) -> Decision`."""

    name: str
    config: object

    def __call__(self, payload: object) -> Decision:
        return SOURCES[self.name].adapt(payload, self.config)


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec("generic", generic.adapt, generic.GenericConfig, "PIMWARDEN_TICKETS_GENERIC_MAPPING"),
        SourceSpec("servicenow", servicenow.adapt, servicenow.ServiceNowConfig,
                   "PIMWARDEN_TICKETS_SERVICENOW_MAPPING"),
        SourceSpec("jira", jira.adapt, jira.JiraConfig, "PIMWARDEN_TICKETS_JIRA_MAPPING"),
    )
}


def get_source(name: str) -> SourceSpec:
    """The registered source called `name` (exact, lower-case); UnknownSource otherwise."""
    spec = SOURCES.get(name)
    if spec is None:
        raise UnknownSource(name)
    return spec


def load_source(name: str, mapping_json: str | None) -> BoundAdapter:
    """Bind source `name` to its configuration parsed from `mapping_json`; ConfigError when malformed."""
    spec = get_source(name)
    return BoundAdapter(name, load_config(spec.config_type, mapping_json, spec.mapping_setting))
