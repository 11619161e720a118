"""GraphGateway: the engine's GraphPort over msgraph-sdk (reads in reads.py, writes in writes.py)."""

from __future__ import annotations

from typing import Any

from shared.graph.client import build_graph_client
from shared.graph.reads import GraphReads
from shared.graph.writes import GraphWrites


class GraphGateway(GraphReads, GraphWrites):
    """Every Graph call PIM Warden makes, with retries, paging and replication waits."""

    @classmethod
    def connect(cls, base_url: str, credential: Any, **client_options: Any) -> GraphGateway:
        """A gateway over a new msgraph-sdk client for `base_url`."""
        return cls(build_graph_client(base_url, credential, **client_options))
