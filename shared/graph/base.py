"""The plumbing every Graph call shares: building requests with the SDK, sending, paging, waiting out
replication delay after a create."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import unquote

from kiota_abstractions.request_information import RequestInformation
from msgraph.graph_service_client import GraphServiceClient

from shared.domain.model import ObservedGroup
from shared.graph import mapping
from shared.graph.batching import ReadBatcher
from shared.graph.calls import CallRunner, send_json, with_json_body
from shared.graph.errors import NotFoundError, PermissionMissingError
from shared.graph.urls import expand
from shared.permissions.calls import call_path, permissions_for

T = TypeVar("T")

# Entra may take a while to show a new object everywhere (eventual consistency): reads and references
# right after a create can fail with "not found". We retry those for up to this long, then give up for
# this run; creation itself is keyed (uniqueName), so waiting never leads to a second create.
REPLICATION_BUDGET_S = 30.0


class GraphBase:
    """Holds the SDK client and the call runner; helpers to send SDK-built requests as JSON."""

    def __init__(
        self,
        client: GraphServiceClient,
        runner: CallRunner | None = None,
        *,
        replication_budget_s: float = REPLICATION_BUDGET_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        batch_reads: bool = True,
    ) -> None:
        self.client = client
        self.runner = runner or CallRunner()
        self._adapter = client.request_adapter
        self._batcher = ReadBatcher(self._adapter, self.runner) if batch_reads else None
        self._replication_budget_s = replication_budget_s
        self._sleep = sleep

    def group_by_unique_name(self, unique_name: str) -> Any:
        """The SDK's `groups(uniqueName='…')` builder, on its own copy of the path parameters.

        msgraph-sdk's alternate-key builders write the key into the client's shared path-parameter dict
        (`client.groups_with_unique_name`), so concurrent callers overwrite each other's key and a request
        can reach another app's group. Found when two apps were onboarded at once over a real socket.
        """
        from msgraph.generated.groups_with_unique_name.groups_with_unique_name_request_builder import (
            GroupsWithUniqueNameRequestBuilder,
        )

        return GroupsWithUniqueNameRequestBuilder(
            self._adapter, dict(self.client.path_parameters), unique_name
        )

    def request_count(self) -> tuple[int, int]:
        """(requests sent, of which writes) since this gateway was built."""
        return self.runner.stats.requests, self.runner.stats.writes

    async def _send(self, info: RequestInformation, *, write: bool = False) -> dict[str, Any]:
        with _naming_permissions(info):
            return await self.runner.run(
                lambda: send_json(self._adapter, info), write=write, request=info
            )

    async def _get(
        self, builder: Any, *, headers: dict[str, str] | None = None, **odata: Any
    ) -> dict[str, Any]:
        info = self._fixed(_with_query(builder.to_get_request_information(), headers, odata))
        if self._batcher is not None:
            with _naming_permissions(info):  # sent in a JSON batch with the reads issued alongside it
                return await self._batcher.get(info)
        return await self._send(info)

    async def _list(
        self, builder: Any, *, headers: dict[str, str] | None = None, **odata: Any
    ) -> list[dict[str, Any]]:
        """Every item of a collection, following @odata.nextLink to the end."""
        items: list[dict[str, Any]] = []
        page = await self._get(builder, headers=headers, **odata)
        while True:
            items.extend(page.get("value") or [])
            next_link = page.get("@odata.nextLink")
            if not next_link:
                return items
            # The nextLink is followed as given; custom headers are not carried over by Graph, so resend them.
            page = await self._get(builder.with_url(next_link), headers=headers)

    async def _write(
        self, method: str, builder: Any, body: Any = None, *, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """PATCH/POST exact JSON, or DELETE, through the builder's URL; Graph's answer as a dict."""
        if method == "DELETE":
            info = builder.to_delete_request_information()
        else:
            info = getattr(builder, f"to_{method.lower()}_request_information")(_placeholder())
            with_json_body(info, body)
        for name, value in (headers or {}).items():
            info.headers.try_add(name, value)
        return await self._send(self._fixed(info), write=True)

    def _fixed(self, info: RequestInformation) -> RequestInformation:
        """`info` with its URL expanded once, now, as the adapter would (its base URL).

        kiota expands the URL template on every read of `info.url` (the auth provider, the adapter
        twice, the batcher, std-uritemplate each time: a profile's top Graph cost); a set URL is
        returned as set, and it is expanded here the fast way where the values allow (urls.py). The
        template stays for call names; a followed link keeps its raw-URL marker.
        """
        raw = info.path_parameters.get(RequestInformation.RAW_URL_KEY)
        # A copy: the SDK hands the client's own path-parameter dict to many requests, and the URL
        # setter clears the dict it finds.
        info.path_parameters = {**info.path_parameters, "baseurl": self._adapter.base_url}
        url = raw or expand(str(info.url_template), {
            k: info._get_sanitized_value(v)
            for k, v in (*info.query_parameters.items(), *info.path_parameters.items())
        })
        info.url = url  # the setter clears path and query parameters: the URL holds them now
        if raw:
            info.path_parameters[RequestInformation.RAW_URL_KEY] = raw
        return info

    async def _with_members(self, data: dict[str, Any]) -> ObservedGroup:
        """The group with the ids of all its members and owners, service principals included.

        v1.0 leaves service principals out of `/members` and `/owners` (group-list-members.md,
        group-list-owners.md); the documented OData cast to `microsoft.graph.servicePrincipal` lists
        them, with `ConsistencyLevel: eventual` and `$count=true` as the pages require for a cast.
        Without it a service principal added around PIM would never be seen.
        """
        group = self.client.groups.by_group_id(str(data["id"]))
        eventual = {"ConsistencyLevel": "eventual"}
        members, owners, sp_members, sp_owners = await asyncio.gather(
            self._list(group.members, select=["id"]),
            self._list(group.owners, select=["id"]),
            self._list(group.members.graph_service_principal, headers=eventual, count="true", select=["id"]),
            self._list(group.owners.graph_service_principal, headers=eventual, count="true", select=["id"]),
        )
        return mapping.group(
            data, (m["id"] for m in members + sp_members), (o["id"] for o in owners + sp_owners)
        )

    async def _when_visible(self, op: Callable[[], Awaitable[T]]) -> T:
        """Retry `op` while it fails with NotFoundError, within the replication budget."""
        waited, delay = 0.0, 0.25
        while True:
            try:
                return await op()
            except NotFoundError:
                if waited >= self._replication_budget_s:
                    raise
                await self._sleep(delay)
                waited += delay
                delay = min(delay * 2, 4.0)


@contextmanager
def _naming_permissions(info: RequestInformation) -> Iterator[None]:
    """A permission refusal leaves here naming the call and the manifest's permissions for it."""
    try:
        yield
    except PermissionMissingError as error:
        if error.permissions:
            raise
        method, url = str(info.http_method.value if info.http_method else "GET"), str(info.url)
        raise error.naming(f"{method} {_call_label(info, url)}", permissions_for(method, url)) from error


def _call_label(info: RequestInformation, url: str) -> str:
    # The SDK's URL template names the call without ids or a user's UPN; a followed link has none.
    template = str(info.url_template or "")
    if template.startswith("{+baseurl}"):
        return unquote(re.sub(r"\{\?[^}]*\}", "", template[len("{+baseurl}") :]))
    return call_path(url)


def _with_query(
    info: RequestInformation, headers: dict[str, str] | None, odata: dict[str, Any]
) -> RequestInformation:
    for key, value in odata.items():
        if value is not None:
            info.query_parameters[f"%24{key}"] = value
    for name, value in (headers or {}).items():
        info.headers.try_add(name, value)
    return info


def _placeholder() -> Any:
    """An empty SDK model: the builder wants a body object; the real content is replaced with exact JSON."""
    from msgraph.generated.models.entity import Entity

    return Entity()


def odata_string(value: str) -> str:
    """A string literal for $filter: quotes doubled, as OData requires (UPNs may contain ')."""
    return "'" + value.replace("'", "''") + "'"
