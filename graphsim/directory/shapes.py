"""Graph's JSON shapes for directory objects: default property sets, computed values, @odata types.

Why separate: what Graph returns by default, and how it derives securityIdentifier or an app role
assignment id, are facts from the docs, independent of the rules that change state.
"""

from __future__ import annotations

import base64
import struct
import uuid
from typing import Any

from graphsim.errors import GraphError

ODATA_TYPES = {
    "users": "#microsoft.graph.user",
    "groups": "#microsoft.graph.group",
    "servicePrincipals": "#microsoft.graph.servicePrincipal",
}
PRINCIPAL_TYPES = {"users": "User", "groups": "Group", "servicePrincipals": "ServicePrincipal"}
# directoryObject types a members/owners list can be cast to; those graphsim does not hold list empty
CAST_TYPES = {
    "microsoft.graph.user": "users",
    "microsoft.graph.group": "groups",
    "microsoft.graph.serviceprincipal": "servicePrincipals",
    "microsoft.graph.device": "devices",
    "microsoft.graph.orgcontact": "orgContacts",
    "microsoft.graph.application": "applications",
}

# user resource page: properties returned by default (others need $select)
USER_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
# servicePrincipal resource page (JSON representation, properties not marked optional) and the
# serviceprincipal-get.md example 1 response: what list, get and delta return without $select, with the
# value a property has when nothing set it. `customSecurityAttributes` is returned only when $select-ed;
# `endpoints` is an optional property; `publisherName` and `createdDateTime` are not v1.0 properties.
SP_DEFAULT: dict[str, Any] = {
    "id": None,
    "deletedDateTime": None,
    "accountEnabled": None,
    "addIns": [],
    "alternativeNames": [],
    "appDescription": None,
    "appDisplayName": None,
    "appId": None,
    "applicationTemplateId": None,
    "appOwnerOrganizationId": None,
    "appRoleAssignmentRequired": False,
    "appRoles": [],
    "description": None,
    "disabledByMicrosoftStatus": None,
    "displayName": None,
    "homepage": None,
    "info": {
        "logoUrl": None,
        "marketingUrl": None,
        "privacyStatementUrl": None,
        "supportUrl": None,
        "termsOfServiceUrl": None,
    },
    "keyCredentials": [],
    "loginUrl": None,
    "logoutUrl": None,
    "notes": None,
    "notificationEmailAddresses": [],
    "oauth2PermissionScopes": [],
    "passwordCredentials": [],
    "preferredSingleSignOnMode": None,
    "preferredTokenSigningKeyThumbprint": None,
    "replyUrls": [],
    "resourceSpecificApplicationPermissions": [],
    "samlSingleSignOnSettings": None,
    "servicePrincipalNames": [],
    "servicePrincipalType": None,
    "signInAudience": None,
    "tags": [],
    "tokenEncryptionKeyId": None,
    "verifiedPublisher": {"addedDateTime": None, "displayName": None, "verifiedPublisherId": None},
}
# returned only when $select-ed
SP_HIDDEN = frozenset({"customSecurityAttributes"})
GROUP_HIDDEN = frozenset(
    {
        "allowExternalSenders",
        "autoSubscribeNewMembers",
        "hideFromAddressLists",
        "hideFromOutlookClients",
        "isSubscribedByMail",
        "unseenCount",
    }
)
DEFAULT_APP_ROLE = "00000000-0000-0000-0000-000000000000"


def security_identifier(object_id: str) -> str:
    """S-1-12-1- and the GUID's bytes as four little-endian uint32s (checked on the docs examples)."""
    parts = struct.unpack("<4I", uuid.UUID(object_id).bytes_le)
    return "S-1-12-1-" + "-".join(str(p) for p in parts)


def app_role_assignment_id(principal_id: str, tail: bytes) -> str:
    """43-char base64url: the principal GUID's bytes (little-endian) then 16 more bytes."""
    raw = uuid.UUID(principal_id).bytes_le + tail[:16].ljust(16, b"\0")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_group(group_id: str, body: dict[str, Any], now: str, domain: str) -> dict[str, Any]:
    """A group's stored JSON with Graph's defaults, from a validated create body."""
    unified = "Unified" in body.get("groupTypes", [])
    nickname = body["mailNickname"]
    group: dict[str, Any] = {
        "id": group_id,
        "deletedDateTime": None,
        "classification": None,
        "createdDateTime": now,
        "creationOptions": [],
        "description": None,
        "displayName": None,
        "expirationDateTime": None,
        "groupTypes": [],
        "isAssignableToRole": None,
        "mail": None,
        "mailEnabled": False,
        "mailNickname": nickname,
        "membershipRule": None,
        "membershipRuleProcessingState": None,
        "onPremisesDomainName": None,
        "onPremisesLastSyncDateTime": None,
        "onPremisesNetBiosName": None,
        "onPremisesSamAccountName": None,
        "onPremisesSecurityIdentifier": None,
        "onPremisesSyncEnabled": None,
        "preferredDataLocation": None,
        "preferredLanguage": None,
        "proxyAddresses": [],
        "renewedDateTime": now,
        "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": [],
        "securityEnabled": True,
        "securityIdentifier": security_identifier(group_id),
        "theme": None,
        "uniqueName": None,
        "visibility": None,
        "onPremisesProvisioningErrors": [],
        "serviceProvisioningErrors": [],
    }
    group.update({k: v for k, v in body.items() if "@" not in k})
    if body.get("isAssignableToRole"):
        group["visibility"] = group["visibility"] or "Private"  # group-post-groups.md example 3
    if unified and body.get("mailEnabled"):
        group["mail"] = f"{nickname}@{domain}"
        group["proxyAddresses"] = [f"SMTP:{nickname}@{domain}"]
        group["visibility"] = group["visibility"] or "Public"
    return group


def sp_view(sp: dict[str, Any]) -> dict[str, Any]:
    """A service principal as list, get and delta return it without $select: every default property
    (null / [] when nothing set it), stored values over them, $select-only ones left out. Filled in
    when rendered, not stored, so 50,000 generated service principals stay small and fast to build."""
    fresh = {k: v.copy() if isinstance(v, list | dict) else v for k, v in SP_DEFAULT.items()}
    return hide({**fresh, **sp}, SP_HIDDEN)


def user_view(user: dict[str, Any]) -> dict[str, Any]:
    """A user as Graph returns it without $select."""
    return {k: user.get(k, [] if k == "businessPhones" else None) for k in USER_DEFAULT}


def hide(obj: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """Drop properties Graph returns only on $select."""
    return {k: v for k, v in obj.items() if k not in hidden}


# never read back (user resource page: passwordProfile is write-only)
USER_WRITE_ONLY = frozenset({"passwordProfile"})


def cast_collection(cast: str) -> str:
    """The collection an OData cast segment names, or 400.

    Graph's $metadata gives the namespace `microsoft.graph` the alias `graph`; the docs write
    `microsoft.graph.servicePrincipal`, msgraph-sdk sends `graph.servicePrincipal`. Both are accepted.
    """
    name = cast.lower()
    found = CAST_TYPES.get(f"microsoft.{name}" if name.startswith("graph.") else name)
    if found is None:
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{cast}'.")
    return found


def reference(collection: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A directoryObject in a members/owners list: @odata.type and its properties.

    group-list-members.md: "All the properties will be returned from an actual call"; the
    group-list-owners.md example shows a user's `accountEnabled`, outside the user default set.
    """
    view = {**user_view(obj), **hide(obj, USER_WRITE_ONLY)} if collection == "users" else obj
    if collection == "servicePrincipals":
        view = hide(obj, SP_HIDDEN)
    return {"@odata.type": ODATA_TYPES[collection], **view}
