"""Reading untrusted JSON field by field, collecting every problem instead of stopping at the first.

Adapters see arbitrary JSON: any field may be missing, null, a number, a list, an object or a
string full of OData or control characters. `Reader` turns each lookup into either a checked value
or a `FieldError` with a JSON Pointer path, so an adapter raises one `PayloadError` listing them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from shared.tickets import formats
from shared.tickets.errors import FieldError, PayloadError

MISSING: Final = object()
TEXT_MAX = 500


def pointer(*parts: str | int) -> str:
    """A JSON Pointer (RFC 6901) for the given path segments."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def dotted_pointer(dotted: str) -> str:
    """The pointer for a configured dotted field path (`variables.app` -> `/variables/app`)."""
    return pointer(*dotted.split("."))


def lookup(record: Mapping[str, object], dotted: str) -> object:
    """The value at a dotted path; an exact key with dots wins (Table API returns `variables.x` flat)."""
    if dotted in record:
        return record[dotted]
    value: object = record
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def as_object(payload: object) -> Mapping[str, object]:
    """The payload as a JSON object, or PayloadError for anything else."""
    if not isinstance(payload, Mapping):
        raise PayloadError([FieldError("", "must be a JSON object")])
    return payload


class Reader:
    """Checked access to one payload's fields; problems accumulate in `errors`."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        """Record a problem at `path`."""
        self.errors.append(FieldError(path, message))

    def raise_if_failed(self) -> None:
        """Raise one PayloadError listing every recorded problem."""
        if self.errors:
            raise PayloadError(self.errors)

    def text(self, value: object, path: str, *, pattern: str = formats.TEXT, max_len: int = TEXT_MAX,
             required: bool = True, what: str = "a string") -> str | None:
        """A string matching `pattern` and at most `max_len` characters long."""
        if value is MISSING or value is None or value == "":
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str):
            self.fail(path, f"must be {what}")
            return None
        if len(value) > max_len:
            self.fail(path, f"must be at most {max_len} characters")
            return None
        if not formats.matches(pattern, value):
            self.fail(path, f"must be {what}")
            return None
        return value

    def principal(self, value: object, path: str, *, required: bool = True) -> str | None:
        """A user object id (GUID) or UPN."""
        text = self.text(value, path, pattern=r".+", max_len=256, required=required,
                         what="a user object id (GUID) or user principal name")
        if text is not None and not formats.is_principal(text):
            self.fail(path, "must be a user object id (GUID) or user principal name")
            return None
        return text

    def guid(self, value: object, path: str, *, required: bool = True, what: str = "a GUID") -> str | None:
        """A GUID, lower-cased."""
        text = self.text(value, path, pattern=formats.GUID, max_len=36, required=required, what=what)
        return None if text is None else text.lower()

    def duration(self, value: object, path: str) -> timedelta | None:
        """An ISO-8601 duration string, or None when absent/null (meaning: as the profile allows)."""
        if value is MISSING or value is None:
            return None
        if not isinstance(value, str):
            self.fail(path, "must be an ISO-8601 duration string such as PT8H, or null")
            return None
        try:
            return formats.parse_strict_duration(value)
        except ValueError as error:
            self.fail(path, str(error))
            return None
