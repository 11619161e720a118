"""Request-body validation as Graph does it: unknown properties, wrong JSON types, group naming rules.

Why: Graph refuses a bad body with a 400 and a specific code and message before touching state; a
stand-in that accepts it would let client bugs through to production.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from graphsim.errors import GraphError

STR, BOOL, STRS, OBJ, LIST, ANY = (
    "Edm.String",
    "Edm.Boolean",
    "Collection(Edm.String)",
    "Object",
    "List",
    "Any",
)

GROUP_WRITABLE: dict[str, str] = {
    "displayName": STR,
    "description": STR,
    "mailNickname": STR,
    "mailEnabled": BOOL,
    "securityEnabled": BOOL,
    "groupTypes": STRS,
    "isAssignableToRole": BOOL,
    "uniqueName": STR,
    "visibility": STR,
    "classification": STR,
    "membershipRule": STR,
    "membershipRuleProcessingState": STR,
    "preferredDataLocation": STR,
    "preferredLanguage": STR,
    "theme": STR,
    "members@odata.bind": STRS,
    "owners@odata.bind": STRS,
    "resourceBehaviorOptions": STRS,
    "resourceProvisioningOptions": STRS,
    "@odata.type": STR,
}
SP_WRITABLE: dict[str, str] = {
    "appRoleAssignmentRequired": BOOL,
    "tags": STRS,
    "customSecurityAttributes": OBJ,
    "accountEnabled": BOOL,
    "displayName": STR,
    "description": STR,
    "notes": STR,
    "homepage": STR,
    "loginUrl": STR,
    "logoutUrl": STR,
    "notificationEmailAddresses": STRS,
    "preferredSingleSignOnMode": STR,
    "appRoles": LIST,
    "servicePrincipalNames": STRS,
    "@odata.type": STR,
}
ASSIGNMENT_WRITABLE: dict[str, str] = {
    "principalId": STR,
    "resourceId": STR,
    "appRoleId": STR,
    "@odata.type": STR,
}
_NICKNAME_BAD = set('@()\\[]";:<>, ')
_GROUP_TYPES = {"unified": "Unified", "dynamicmembership": "DynamicMembership"}


def bad(message: str, code: str = "Request_BadRequest") -> GraphError:
    """A 400 with a directory error code."""
    return GraphError(400, code, message)


def require_object(body: Any) -> dict[str, Any]:
    """The body must be a JSON object."""
    if not isinstance(body, dict):
        raise bad(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and "
            "payload is of valid JSON format.",
            "BadRequest",
        )
    return body


def check_properties(body: Any, schema: dict[str, str], type_name: str) -> dict[str, Any]:
    """Reject unknown properties and values of the wrong JSON type (ODataLib's messages)."""
    obj = require_object(body)
    for key, value in obj.items():
        kind = schema.get(key)
        if kind is None:
            raise bad(
                f"Property '{key}' does not exist on type '{type_name}'. Make sure to only use "
                "property names that are defined by the type or mark the type as open type.",
                "BadRequest",
            )
        if value is not None and not _type_ok(kind, value):
            raise bad(f"Cannot convert the literal '{value}' to the expected type '{kind}'.", "BadRequest")
    return obj


def _type_ok(kind: str, value: Any) -> bool:
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == OBJ:
        return isinstance(value, dict)
    if kind == LIST:
        return isinstance(value, list)
    return True


def is_guid(value: Any) -> bool:
    """True for a GUID string."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str) and len(value) == 36


def invalid_value(prop: str, resource: str = "Group") -> GraphError:
    """Graph's message for a missing or invalid required property."""
    return bad(f"Invalid value specified for property '{prop}' of resource '{resource}'.")


def check_new_group(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a create-group body (required properties, naming, type combinations)."""
    for prop in ("displayName", "mailNickname"):
        if not isinstance(body.get(prop), str) or not body[prop].strip():
            raise invalid_value(prop)
    for prop in ("mailEnabled", "securityEnabled"):
        if not isinstance(body.get(prop), bool):
            raise invalid_value(prop)
    check_group_values(body)
    types = body.get("groupTypes") or []
    if body["mailEnabled"] and "Unified" not in types:
        raise bad(
            "The service does not currently support writes of mail-enabled groups. Please ensure "
            "that the mail-enablement property is unset or is set to false."
        )
    if "Unified" in types and not body["mailEnabled"]:
        raise invalid_value("mailEnabled")
    if "DynamicMembership" in types and not body.get("membershipRule"):
        raise invalid_value("membershipRule")
    if body.get("isAssignableToRole"):
        if not body["securityEnabled"]:
            raise bad("IsAssignableToRole can only be set to true for security enabled groups.")
        if "DynamicMembership" in types:
            raise bad("IsAssignableToRole cannot be set to true for dynamic membership groups.")
    binds = len(body.get("members@odata.bind", [])) + len(body.get("owners@odata.bind", []))
    if binds > 20:
        raise bad("Maximum of 20 relationships can be added as part of group creation.")
    return body


def check_group_values(body: dict[str, Any]) -> None:
    """Value rules that apply to create and update alike."""
    name = body.get("displayName")
    if name is not None and len(name) > 256:
        raise invalid_value("displayName")
    nick = body.get("mailNickname")
    if nick is not None and (
        len(nick) > 64 or not nick or any(c in _NICKNAME_BAD or ord(c) > 127 for c in nick)
    ):
        raise invalid_value("mailNickname")
    if "groupTypes" in body:
        types = []
        for t in body["groupTypes"] or []:
            if t.lower() not in _GROUP_TYPES:
                raise invalid_value("groupTypes")
            types.append(_GROUP_TYPES[t.lower()])
        body["groupTypes"] = types
    unique = body.get("uniqueName")
    if unique is not None and (not unique or len(unique) > 256):
        raise invalid_value("uniqueName")


def bind_ids(body: dict[str, Any], key: str) -> list[tuple[str, str]]:
    """(collection, id) pairs from `members@odata.bind` / `owners@odata.bind` URLs."""
    return [parse_reference(url) for url in body.get(key, [])]


_REF = re.compile(r"(?:^|/)(users|groups|servicePrincipals|directoryObjects)/([^/?]+)$", re.IGNORECASE)


def parse_reference(url: Any) -> tuple[str, str]:
    """(collection, id) from an @odata.id / @odata.bind URL, or Graph's 400."""
    m = _REF.search(url) if isinstance(url, str) else None
    if not m or not is_guid(m.group(2)):
        raise bad(f"Invalid object identifier '{url}'.")
    return m.group(1), m.group(2)
