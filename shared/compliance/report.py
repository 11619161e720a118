"""Streaming report formats: JSON Lines (the standard log format) and CSV for auditors.

Both are generators over an iterable of events: they hold one row at a time, so a year of a busy
app streams to the HTTP response or a file without being loaded into memory.

JSON Lines: one JSON object per line, keys in `COLUMNS` order, every key present (null when
unknown), UTF-8. Schema: docs/schemas/report-event.schema.json.

CSV: RFC 4180 (comma separated, CRLF line ends, fields quoted when they hold a comma, quote or line
break, quotes doubled), header row first, columns in `COLUMNS` order, empty field for null.
CSV injection protection: spreadsheet programs execute a cell that starts with `=`, `+`, `-`, `@`,
tab or carriage return as a formula (OWASP "CSV Injection"). Such a cell is written with a single
quote `'` in front, which the spreadsheet shows as text. Justifications, ticket numbers and names are
user input, so the rule applies to every cell. A reader that wants the original value strips one
leading `'` from a cell whose second character is one of those.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from shared.compliance.events import COLUMNS, ComplianceEvent

FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST: Final = frozenset(FORMULA_TRIGGERS)


def iter_jsonl(events: Iterable[ComplianceEvent]) -> Iterator[str]:
    """One JSON object per event, each line ending in a newline."""
    for event in events:
        yield json.dumps(event.to_record(), ensure_ascii=False, separators=(",", ":")) + "\n"


def iter_csv(events: Iterable[ComplianceEvent]) -> Iterator[str]:
    """The header line, then one CSV line per event (RFC 4180, CRLF, formula cells neutralised)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    yield _line(writer.writerow, buffer, COLUMNS)
    for event in events:
        yield _line(writer.writerow, buffer, [safe_cell(value) for value in event.values()])


def safe_cell(value: str | None) -> str:
    """The cell text: '' for null, a leading `'` when a spreadsheet would read it as a formula."""
    if not value:
        return ""
    return "'" + value if value[0] in _FORMULA_FIRST else value


def _line(write_row: Callable[[Iterable[str]], object], buffer: io.StringIO, row: Iterable[str]) -> str:
    write_row(row)
    line = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return line
