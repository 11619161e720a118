"""Which URLs PIM Warden sends a token to, and how a URL is shown: one set of rules for every setting.

A URL's host is what `urlsplit` says it is, never a prefix of the text (`http://localhost@evil.example/`
is evil.example); URLs with user info are refused wherever a token may follow. Shown URLs (health,
logs) keep scheme, host, port and path only: a SAS token lives in the query string.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Microsoft Graph's service roots: the global service and the national clouds (learn.microsoft.com,
# "Microsoft Graph national cloud deployments"). The managed identity's Graph token goes to no other host.
GRAPH_HOSTS = frozenset(
    {"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"}
)
GRAPH_VERSION_PATH = "/v1.0"


def is_loopback_url(url: str) -> bool:
    """True when the http(s) URL's host is localhost or a loopback IP address, with no user info
    (`http://localhost@evil.example/` is evil.example; `http://127.0.0.1.evil.example/` is not an IP)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def graph_scope(base_url: str) -> str:
    """The token scope for a Graph base URL: its own host for a national cloud, else the global one."""
    host = urlsplit(base_url).hostname or ""
    return f"https://{host if host in GRAPH_HOSTS else 'graph.microsoft.com'}/.default"


def redact_url(url: str | None) -> str | None:
    """The URL without user info, query string or fragment (a SAS token lives in the query): safe to
    show or log. Text that is not a URL is replaced whole."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<redacted>"
    if not parts.scheme or not parts.hostname:
        return "<redacted>"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"


def check_graph_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "must be an absolute http(s) URL, e.g. https://graph.microsoft.com/v1.0"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL, e.g. https://graph.microsoft.com/v1.0"
    if "@" in parts.netloc or parts.query or parts.fragment:
        return "must not carry user info, a query string or a fragment"
    if is_loopback_url(value):
        return None
    if parts.scheme != "https":
        return "must use https (plain http is only allowed on loopback, for a local Graph stand-in)"
    if parts.hostname not in GRAPH_HOSTS or port not in (None, 443):
        return "must be a Microsoft Graph host (" + ", ".join(sorted(GRAPH_HOSTS)) + ") or loopback"
    if parts.path.rstrip("/") != GRAPH_VERSION_PATH:
        return f"must end in {GRAPH_VERSION_PATH}, e.g. https://{parts.hostname}{GRAPH_VERSION_PATH}"
    return None


def check_https_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https URL (managed identity tokens are refused over http)"
    if "@" in parts.netloc or parts.query:
        return "must be the service URI alone, without user info or a query string (no SAS token)"
    return None


def is_https_or_loopback_url(url: str) -> bool:
    """An https URL without user info, or a real loopback URL (http allowed there)."""
    if is_loopback_url(url):
        return True
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and "@" not in parts.netloc
