"""One typed view of the app settings, read once and validated once.

Azure Functions hands app settings to the worker as environment variables. Reading them in one place,
collecting every problem before failing, means a misconfigured deployment is diagnosed in one look
(the health endpoint lists the problems by setting name) instead of one crash per missing value.
Secrets (the storage connection string's key) never appear in `repr`, `redacted()` or `describe()`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from shared.url_rules import check_graph_url, check_https_url, is_loopback_url, redact_url

DEFAULT_GRAPH_BASE_URL = "https://graph.microsoft.com/v1.0"
STORAGE_CONNECTION = "PimWardenStorage"
# Longest table suffix used by the state store; a table name is the prefix plus one suffix.
LONGEST_TABLE_SUFFIX = "registrations"
# host.json functionTimeout (10 minutes); the run budget must leave room below it.
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 600
HOST_TIMEOUT_OVERRIDE = "AzureFunctionsJobHost__functionTimeout"
_TABLE_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_E = TypeVar("_E", bound=StrEnum)


class SettingsError(ValueError):
    """Raised when settings are missing or malformed; `problems` names every bad setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid settings:\n  - " + "\n  - ".join(problems))


class CredentialKind(StrEnum):
    MANAGED_IDENTITY = "managed-identity"
    STATIC_DEV_TOKEN = "static-dev-token"  # noqa: S105 - a mode name, not a secret


@dataclass(frozen=True)
class StorageSettings:
    """Where state lives: a connection string (Azurite, dev) or a service URI plus managed identity."""

    connection_string: str | None = field(default=None, repr=False)
    table_service_uri: str | None = None
    queue_service_uri: str | None = None
    client_id: str | None = None

    @property
    def uses_connection_string(self) -> bool:
        return self.connection_string is not None

    def table_endpoint(self) -> str:
        """The table service endpoint, without any secret."""
        if self.table_service_uri:
            return self.table_service_uri
        parts = parse_connection_string(self.connection_string or "")
        if parts.get("usedevelopmentstorage", "").lower() == "true":
            return "http://127.0.0.1:10002/devstoreaccount1"
        if "tableendpoint" in parts:
            return parts["tableendpoint"]
        suffix = parts.get("endpointsuffix", "core.windows.net")
        protocol = parts.get("defaultendpointsprotocol", "https")
        return f"{protocol}://{parts.get('accountname', '?')}.table.{suffix}"


@dataclass(frozen=True)
class Settings:
    """Every PIM Warden setting, typed; build it with `Settings.from_env`."""

    storage: StorageSettings
    graph_base_url: str = DEFAULT_GRAPH_BASE_URL
    credential: CredentialKind = CredentialKind.MANAGED_IDENTITY
    identity_client_id: str | None = None
    table_prefix: str = "pimwarden"
    enforce_schedule: str = "0 */15 * * * *"
    full_audit_interval_hours: int = 24
    high_value_tag: str = "HighValue"
    default_profile: str = "standard"
    profiles_path: str | None = None
    run_budget_seconds: int = 240
    function_timeout_seconds: int = DEFAULT_FUNCTION_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate every setting; raise SettingsError naming each bad one."""
        r = SettingsReader(env)
        graph_url = r.text("PIMWARDEN_GRAPH_BASE_URL", DEFAULT_GRAPH_BASE_URL, check_graph_url)
        credential = r.choice("PIMWARDEN_CREDENTIAL", CredentialKind, CredentialKind.MANAGED_IDENTITY)
        if credential is CredentialKind.STATIC_DEV_TOKEN and graph_url and not is_loopback_url(graph_url):
            r.problem("PIMWARDEN_CREDENTIAL", "static-dev-token is only allowed with a loopback "
                      "PIMWARDEN_GRAPH_BASE_URL (a local Graph stand-in)")
        timeout = r.duration_seconds(HOST_TIMEOUT_OVERRIDE, DEFAULT_FUNCTION_TIMEOUT_SECONDS)
        budget = r.integer("PIMWARDEN_RUN_BUDGET_SECONDS", 240, minimum=10)
        if budget is not None and timeout is not None and budget >= timeout:
            r.problem("PIMWARDEN_RUN_BUDGET_SECONDS", f"must be below the host functionTimeout ({timeout} s)")
        settings = cls(
            storage=_read_storage(r),
            graph_base_url=graph_url or DEFAULT_GRAPH_BASE_URL,
            credential=credential or CredentialKind.MANAGED_IDENTITY,
            identity_client_id=r.optional("PIMWARDEN_IDENTITY_CLIENT_ID", _check_guid),
            table_prefix=r.text("PIMWARDEN_TABLE_PREFIX", "pimwarden", _check_table_prefix) or "",
            enforce_schedule=r.text("PIMWARDEN_ENFORCE_SCHEDULE", "0 */15 * * * *", _check_ncrontab) or "",
            full_audit_interval_hours=r.integer("PIMWARDEN_FULL_AUDIT_INTERVAL_HOURS", 24, minimum=1) or 0,
            high_value_tag=r.text("PIMWARDEN_HIGH_VALUE_TAG", "HighValue", _check_not_blank) or "",
            default_profile=r.text("PIMWARDEN_DEFAULT_PROFILE", "standard", _check_not_blank) or "",
            profiles_path=r.optional("PIMWARDEN_PROFILES_PATH", _check_not_blank),
            run_budget_seconds=budget or 0,
            function_timeout_seconds=timeout or 0,
        )
        r.raise_if_problems(SettingsError)
        return settings

    def redacted(self) -> dict[str, Any]:
        """Every setting as plain data, with secrets replaced by a marker; safe to log."""
        storage = self.storage
        return {
            "graph_base_url": redact_url(self.graph_base_url),
            "credential": self.credential.value,
            "identity_client_id": self.identity_client_id,
            "storage": {
                "connection_string": "<redacted>" if storage.connection_string else None,
                "table_service_uri": redact_url(storage.table_service_uri),
                "queue_service_uri": redact_url(storage.queue_service_uri),
                "client_id": storage.client_id,
            },
            "table_prefix": self.table_prefix,
            "enforce_schedule": self.enforce_schedule,
            "full_audit_interval_hours": self.full_audit_interval_hours,
            "high_value_tag": self.high_value_tag,
            "default_profile": self.default_profile,
            "profiles_path": self.profiles_path,
            "run_budget_seconds": self.run_budget_seconds,
        }

    def describe(self) -> dict[str, Any]:
        """What the health endpoint shows: which parts are configured and how, never a secret."""
        return {
            "graph": {"base_url": redact_url(self.graph_base_url), "credential": self.credential.value},
            "storage": {
                "mode": "connection-string" if self.storage.uses_connection_string else "managed-identity",
                "table_endpoint": redact_url(self.storage.table_endpoint()),
                "table_prefix": self.table_prefix,
            },
        }

    def storage_client_id(self) -> str | None:
        """The managed identity used for storage: the connection's own clientId, else the app's."""
        return self.storage.client_id or self.identity_client_id


def parse_connection_string(value: str) -> dict[str, str]:
    """Split `Key=Value;...` into a dict with lower-cased keys (values keep their case)."""
    parts: dict[str, str] = {}
    for chunk in value.split(";"):
        if chunk.strip():
            key, sep, val = chunk.partition("=")
            if not sep:
                raise ValueError("is not a Key=Value;... connection string")
            parts[key.strip().lower()] = val.strip()
    return parts


class SettingsReader:
    """Reads raw settings, converts them, and collects problems instead of raising on the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._problems: list[str] = []

    def raw(self, name: str) -> str | None:
        """The stripped value, or None when unset or blank."""
        value = self._env.get(name, "").strip()
        return value or None

    def problem(self, name: str, reason: str) -> None:
        """Record that setting `name` is wrong; the reason must not quote a secret value."""
        self._problems.append(f"{name}: {reason}")

    def optional(self, name: str, check: Callable[[str], str | None]) -> str | None:
        """An optional text setting, validated when present."""
        value = self.raw(name)
        if value is not None and (reason := check(value)):
            self.problem(name, reason)
            return None
        return value

    def text(self, name: str, default: str, check: Callable[[str], str | None]) -> str | None:
        """A text setting with a default; None when malformed."""
        value = self.optional(name, check)
        return default if value is None and self.raw(name) is None else value

    def integer(self, name: str, default: int, *, minimum: int) -> int | None:
        """A whole number of at least `minimum`; None when malformed."""
        value = self.raw(name)
        if value is None:
            return default
        if not re.fullmatch(r"[0-9]+", value) or int(value) < minimum:
            self.problem(name, f"must be a whole number >= {minimum}, got {value!r}")
            return None
        return int(value)

    def choice(self, name: str, kind: type[_E], default: _E) -> _E | None:
        """One of an enum's values; None when malformed."""
        value = self.raw(name)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            self.problem(name, f"must be one of {allowed}, got {value!r}")
            return None

    def duration_seconds(self, name: str, default: int) -> int | None:
        """An hh:mm:ss duration in seconds; None when malformed."""
        value = self.raw(name)
        if value is None:
            return default
        match = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})", value)
        if not match:
            self.problem(name, f"must be a duration hh:mm:ss, got {value!r}")
            return None
        hours, minutes, seconds = (int(g) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds

    def raise_if_problems(self, error: Callable[[list[str]], Exception]) -> None:
        """Raise one error listing every problem, if there were any."""
        if self._problems:
            raise error(self._problems)


def _read_storage(r: SettingsReader) -> StorageSettings:
    conn = r.optional(STORAGE_CONNECTION, _check_connection_string)
    table_uri = r.optional(f"{STORAGE_CONNECTION}__tableServiceUri", check_https_url)
    queue_uri = r.optional(f"{STORAGE_CONNECTION}__queueServiceUri", check_https_url)
    client_id = r.optional(f"{STORAGE_CONNECTION}__clientId", _check_guid)
    raw_conn, raw_uri = r.raw(STORAGE_CONNECTION), r.raw(f"{STORAGE_CONNECTION}__tableServiceUri")
    if raw_conn and raw_uri:
        r.problem(STORAGE_CONNECTION, f"set either {STORAGE_CONNECTION} (connection string) or "
                  f"{STORAGE_CONNECTION}__tableServiceUri (managed identity), not both")
    elif not raw_conn and not raw_uri:
        r.problem(STORAGE_CONNECTION, f"missing: set {STORAGE_CONNECTION} to a storage connection string "
                  f"or {STORAGE_CONNECTION}__tableServiceUri to https://<account>.table.core.windows.net")
    return StorageSettings(conn, table_uri, queue_uri, client_id)


def _check_guid(value: str) -> str | None:
    try:
        uuid.UUID(value)
    except ValueError:
        return "must be a GUID (the managed identity's client id)"
    return None


def _check_table_prefix(value: str) -> str | None:
    longest = 63 - len(LONGEST_TABLE_SUFFIX)
    if not _TABLE_PREFIX_RE.match(value):
        return "must be letters and digits only and start with a letter (Table Storage name rules)"
    if len(value) > longest:
        return f"must be at most {longest} characters (table names are at most 63)"
    return None


def _check_ncrontab(value: str) -> str | None:
    fields = value.split()
    if len(fields) != 6:
        return "must be a 6-field NCRONTAB expression: {second} {minute} {hour} {day} {month} {weekday}"
    if not all(re.fullmatch(r"[0-9A-Za-z*/,\-]+", f) for f in fields):
        return "has characters NCRONTAB does not allow"
    return None


def _check_not_blank(value: str) -> str | None:
    return "must not be blank" if not value.strip() else None


def _check_connection_string(value: str) -> str | None:
    try:
        parts = parse_connection_string(value)
    except ValueError as exc:
        return str(exc)
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        return None
    if "accountname" not in parts and "tableendpoint" not in parts:
        return "needs AccountName (or TableEndpoint), or UseDevelopmentStorage=true"
    if "accountkey" not in parts and "sharedaccesssignature" not in parts:
        return "needs AccountKey or SharedAccessSignature"
    return None
