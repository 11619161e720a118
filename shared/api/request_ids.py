"""Request ids: the (source, delivery key) of an inbound record, as one opaque, URL-safe token.

Delivery keys hold `:` (and operator requests `/`-free but arbitrary text), which some front ends
refuse in a path; base64url of both parts is safe everywhere and decodes without a lookup table.
"""

from __future__ import annotations

import base64
import binascii
import re

PREFIX = "r_"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{4,400}")
_SEP = "\n"


def request_id(source: str, delivery_key: str) -> str:
    """The public id of the record (source, delivery_key)."""
    raw = f"{source}{_SEP}{delivery_key}".encode()
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_request_id(value: str) -> tuple[str, str]:
    """(source, delivery key) of a request id; ValueError when it is not one."""
    token = value.removeprefix(PREFIX)
    if not value.startswith(PREFIX) or not _TOKEN.fullmatch(token):
        raise ValueError("not a request id")
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("not a request id") from None
    source, sep, key = text.partition(_SEP)
    if not sep or not source or not key:
        raise ValueError("not a request id")
    return source, key


def status_url(rid: str) -> str:
    """Where the sender looks up what became of the request."""
    return f"/api/requests/{rid}"
