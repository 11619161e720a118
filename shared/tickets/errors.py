"""What can go wrong with a ticket webhook, as one small tree of typed errors.

    TicketError
    ├── SignatureError   the message is not authentic or not fresh          -> 401, code only
    ├── PayloadError     authentic, but the JSON breaks the contract       -> 400, field errors
    └── ConfigError      our own settings (secrets, field mapping) are bad  -> startup / health

None of them ever carries a secret, a computed MAC or a request body: their text is safe to log and
safe to return to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class TicketError(Exception):
    """Base of every error raised by `shared.tickets`."""


class SignatureErrorCode(StrEnum):
    """Machine codes for a refused signature; the only detail a caller ever sees."""

    MISSING_HEADERS = "missing_headers"
    BAD_ID = "bad_id"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE = "stale"
    FUTURE = "future"
    NO_VALID_SIGNATURE = "no_valid_signature"
    BAD_SECRET_CONFIG = "bad_secret_config"  # noqa: S105 (an error code, not a secret)


class SignatureError(TicketError):
    """The message failed authentication; `code` says which check, and nothing more."""

    def __init__(self, code: SignatureErrorCode, hint: str = "") -> None:
        self.code = code
        self.hint = hint  # secret-free (e.g. "secret #2 is not base64"), for operators only
        super().__init__(f"signature rejected: {code.value}")

    def __repr__(self) -> str:
        return f"SignatureError({self.code.value!r})"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule in a payload: a JSON Pointer to the field and a short message."""

    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        """The shape returned in a 400 answer: {"path": ..., "message": ...}."""
        return {"path": self.path, "message": self.message}


class PayloadError(TicketError):
    """The payload is malformed or violates the source's contract; `errors` lists every problem."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors) or (FieldError("", "invalid payload"),)
        summary = "; ".join(f"{e.path or '/'}: {e.message}" for e in self.errors[:5])
        super().__init__(f"invalid payload: {summary}")


class ConfigError(TicketError):
    """A ticket setting (secrets or field mapping) is malformed; `problems` names each one."""

    def __init__(self, setting: str, problems: Iterable[str]) -> None:
        self.setting = setting
        self.problems = tuple(problems)
        super().__init__(f"{setting}: " + "; ".join(self.problems))
