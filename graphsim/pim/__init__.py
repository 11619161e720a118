"""PIM for Groups and group role management policies for graphsim, as one pluggable backend.

backend = graphsim.pim.build(port)      # port: graphsim.ports.DirectoryPort
backend.routes()                        # list[graphsim.http.Route] to mount in the URL table
backend.seed(data) / dump() / reset()   # collections in Graph's JSON, ids kept
backend.tick(now)                       # call whenever the simulated clock moves
backend.is_active_member(group_id, principal_id, now)
"""

from __future__ import annotations

from graphsim.pim.backend import PimBackend
from graphsim.pim.enforcement import Caller
from graphsim.ports import DirectoryPort

__all__ = ["Caller", "PimBackend", "build"]


def build(port: DirectoryPort) -> PimBackend:
    """A fresh PIM backend that reaches the directory only through `port`."""
    return PimBackend(port)
