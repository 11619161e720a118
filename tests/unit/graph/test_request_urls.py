"""A request's URL is expanded once (GraphBase._fixed, the fast way where it can: urls.py) instead of
on every read of `info.url`: the URLs sent must stay byte for byte what the SDK sends, for every kind
of call the gateway makes, and the client's own path parameters (shared by the SDK with many
builders) must survive."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from stduritemplate import StdUriTemplate

from shared.graph.base import GraphBase, _with_query
from shared.graph.calls import send_json, with_json_body
from shared.graph.client import build_graph_client
from shared.graph.urls import expand

BASE = "http://127.0.0.1/v1.0"
ODD = "a b'c/ü%20+&?#"  # an id or key with every character that needs quoting


class StaticCredential:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("token", int(time.time()) + 3600)


class Recorder:
    """An httpx transport answering `{}` and keeping the raw URL of every request."""

    def __init__(self) -> None:
        self.urls: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url.raw_path)
        return httpx.Response(200, json={})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def base(recorder: Recorder) -> GraphBase:
    client = build_graph_client(BASE, StaticCredential(), transport=httpx.MockTransport(recorder))
    return GraphBase(client, batch_reads=False)


Builder = Callable[[GraphBase], Any]
GETS: dict[str, tuple[Builder, dict[str, Any], dict[str, str] | None]] = {
    "group by id": (lambda b: b.client.groups.by_group_id(ODD), {"select": ["id", "uniqueName"]}, None),
    "group by uniqueName": (lambda b: b.group_by_unique_name(ODD), {}, None),
    "members": (lambda b: b.client.groups.by_group_id("g1").members, {"select": ["id"]}, None),
    "service principal members (cast, $count)": (
        lambda b: b.client.groups.by_group_id("g1").members.graph_service_principal,
        {"count": "true", "select": ["id"]}, {"ConsistencyLevel": "eventual"}),
    "policy assignments ($filter, $expand)": (
        lambda b: b.client.policies.role_management_policy_assignments,
        {"filter": f"scopeId eq '{ODD}' and scopeType eq 'Group'", "expand": ["policy($expand=rules)"]},
        None),
    "PIM eligibility instances": (
        lambda b: b.client.identity_governance.privileged_access.group.eligibility_schedule_instances,
        {"filter": "groupId eq 'g1'"}, None),
    "app role assignments": (
        lambda b: b.client.service_principals.by_service_principal_id(ODD).app_role_assigned_to, {}, None),
    "directory audits": (
        lambda b: b.client.audit_logs.directory_audits,
        {"filter": "activityDateTime ge 2026-01-01T00:00:00Z"}, None),
    "user by UPN": (lambda b: b.client.users.by_user_id("o'neil@contoso.com"), {"select": ["id"]}, None),
    "followed nextLink": (
        lambda b: b.client.groups.delta.with_url(f"{BASE}/groups/delta?$skiptoken=a%2Bb%3D"), {}, None),
}
GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
WRITES: dict[str, tuple[str, Builder]] = {
    "PATCH service principal": ("PATCH", lambda b: b.client.service_principals.by_service_principal_id(GUID)),
    "POST appRoleAssignedTo (an id)": (
        "POST", lambda b: b.client.service_principals.by_service_principal_id(GUID).app_role_assigned_to),
    "PATCH group by uniqueName": ("PATCH", lambda b: b.group_by_unique_name(ODD)),
    "PATCH policy rule": ("PATCH", lambda b: b.client.policies.role_management_policies
                          .by_unified_role_management_policy_id(ODD).rules
                          .by_unified_role_management_policy_rule_id("Expiration_EndUser_Assignment")),
    "POST appRoleAssignedTo": (
        "POST", lambda b: b.client.service_principals.by_service_principal_id(ODD).app_role_assigned_to),
    "POST eligibilityScheduleRequests": (
        "POST", lambda b: b.client.identity_governance.privileged_access.group.eligibility_schedule_requests),
    "DELETE member ref": (
        "DELETE", lambda b: b.client.groups.by_group_id("g1").members.by_directory_object_id(ODD).ref),
}


@pytest.mark.parametrize("kind", sorted(GETS))
async def test_reads_send_the_sdks_url(kind: str, base: GraphBase, recorder: Recorder) -> None:
    make, odata, headers = GETS[kind]
    await send_json(base.client.request_adapter, _with_query(make(base).to_get_request_information(),
                                                             headers, odata))
    await base._get(make(base), headers=headers, **odata)
    sdk, ours = recorder.urls
    assert ours == sdk


@pytest.mark.parametrize("kind", sorted(WRITES))
async def test_writes_send_the_sdks_url(kind: str, base: GraphBase, recorder: Recorder) -> None:
    method, make = WRITES[kind]
    builder = make(base)
    if method == "DELETE":
        info = builder.to_delete_request_information()
    else:
        from msgraph.generated.models.entity import Entity

        info = with_json_body(getattr(builder, f"to_{method.lower()}_request_information")(Entity()), {})
    await send_json(base.client.request_adapter, info)
    await base._write(method, make(base), None if method == "DELETE" else {})
    sdk, ours = recorder.urls
    assert ours == sdk


async def test_the_clients_path_parameters_survive(base: GraphBase, recorder: Recorder) -> None:
    before = dict(base.client.path_parameters)
    await base._get(base.client.groups, filter="displayName eq 'x'")
    await base._get(base.client.groups)  # the same collection builder again: its URL is whole
    assert base.client.path_parameters == before
    assert recorder.urls == [b"/v1.0/groups?$filter=displayName%20eq%20%27x%27", b"/v1.0/groups"]


async def test_a_fixed_request_keeps_its_template_for_call_names(base: GraphBase) -> None:
    info = base._fixed(base.client.groups.by_group_id("g1").to_get_request_information())
    assert info.url == f"{BASE}/groups/g1"
    assert str(info.url_template).startswith("{+baseurl}/groups/")
    assert info.path_parameters == {}


TEMPLATES = {
    "item": "{+baseurl}/groups/{group%2Did}{?%24expand,%24select}",
    "alternate key": "{+baseurl}/groups(uniqueName='{uniqueName}'){?%24expand,%24select}",
    "nested": "{+baseurl}/policies/roleManagementPolicies/{unifiedRoleManagementPolicy%2Did}/rules/"
              "{unifiedRoleManagementPolicyRule%2Did}",
    "list": "{+baseurl}/groups/{group%2Did}/members{?%24count,%24filter,%24select,%24top}",
}
VALUES: list[dict[str, Any]] = [
    {"group%2Did": "0f8fad5b-d9cb-469f-a165-70867728950e"},  # the fast way
    {"group%2Did": "g1", "%24select": ["id", "uniqueName"], "%24count": "true"},
    {"uniqueName": "pimwarden.app-1.role_x~"},
    {"unifiedRoleManagementPolicy%2Did": "Group_abc_def",
     "unifiedRoleManagementPolicyRule%2Did": "Expiration_EndUser_Assignment"},
    {"group%2Did": ODD, "%24select": ["id"]},  # std-uritemplate's way (needs encoding)
    {"uniqueName": ODD},
    {"group%2Did": "g1", "%24filter": "groupId eq 'g1'", "%24top": 5},
    {"group%2Did": "g1", "%24select": []},
    {"group%2Did": "g1", "%24select": ["id", "a b"]},
    {"group%2Did": ""},
    {},
]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("index", range(len(VALUES)))
def test_expansion_is_std_uritemplates(template: str, index: int) -> None:
    values = {"baseurl": BASE, **VALUES[index]}
    assert expand(TEMPLATES[template], values) == StdUriTemplate.expand(TEMPLATES[template], dict(values))
