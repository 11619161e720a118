"""The test suite talks to loopback only: a guard on every outgoing connection and name lookup.

Installed by tests/conftest.py before any test module is imported. A connection (blocking, through
`socket.create_connection`, or asyncio's `loop.sock_connect`, which all end in `socket.connect` or
`connect_ex` of a `socket.socket`) to an address that is not loopback raises `OffLoopbackError`;
a lookup of a host name other than `localhost` does too, so nothing leaves the machine even for
DNS (an IP address needs no lookup: its connection is checked). Libraries may swallow the error
(azure-identity turns it into "credential unavailable"), so every blocked attempt is also recorded
and the test that made it fails at teardown.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_LOCAL_NAMES = frozenset({"localhost", "localhost.", ""})
blocked: list[str] = []


class OffLoopbackError(ConnectionRefusedError):
    """A test tried to reach something other than loopback."""


def is_loopback_host(host: object) -> bool:
    """True for localhost, a loopback address, or a Unix socket path (never leaves the machine)."""
    if host is None or isinstance(host, bytes | bytearray):
        return host is None
    text = str(host).split("%", 1)[0]  # an IPv6 scope id
    if text.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> OffLoopbackError:
    blocked.append(what)
    return OffLoopbackError(f"test network guard: {what} is not loopback (tests only touch loopback)")


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback_host(address[0]):
        raise _refuse(f"connect to {address[0]}:{address[1]}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, bytes | bytearray):
        host = host.decode("ascii", "replace")
    if host is not None and not is_loopback_host(host) and not _is_address(host):
        raise socket.gaierror(socket.EAI_NONAME, str(_refuse(f"name lookup of {host}")))
    return _getaddrinfo(host, *args, **kwargs)


def _is_address(host: str) -> bool:
    """An IP address needs no DNS; connecting to it is checked by the connect guard."""
    try:
        ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return False
    return True


def install() -> None:
    """Guard this process's sockets (idempotent)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
