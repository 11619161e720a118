"""Report formats: JSON Lines against the schema, CSV round trip and injection guard, streaming."""

from __future__ import annotations

import csv
import io
import itertools
import json
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from shared.compliance.events import COLUMNS, Cause, ComplianceEvent, EventKind, Source
from shared.compliance.expiry import ScheduleInstance, expiries
from shared.compliance.mapping import map_assignment_request, map_directory_audit
from shared.compliance.report import iter_csv, iter_jsonl, safe_cell
from shared.compliance.warden_audit import map_warden_audit
from tests.unit.compliance.samples import CTX, DOC_AUDIT, DOC_SELF_ACTIVATE, GROUP, USER, at, make_event

SCHEMA = json.loads((Path(__file__).parents[3] / "docs/schemas/report-event.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def mixed_events() -> list[ComplianceEvent]:
    """Events from every mapper, plus awkward text."""
    warden = {"when": "2026-01-05T10:00:00Z", "cause": "operator:ops@contoso.com", "target": "rule-1",
              "action": "PolicyRuleCorrected", "before": {"a": 1}, "after": {"a": 2}, "outcome": "succeeded"}
    expired = ScheduleInstance(USER, GROUP, at("2026-01-01T00:00"), at("2026-01-02T00:00"))
    found = [map_assignment_request(DOC_SELF_ACTIVATE, CTX), map_directory_audit(DOC_AUDIT, CTX),
             map_warden_audit(warden, CTX), *expiries([expired], [], at("2026-01-03T00:00"), CTX)]
    awkward = make_event(9, justification='line one\r\nline "two", with comma', user_upn=None,
                         ticket_system="Jira ✓", detail="ünïcödé")
    open_ended = make_event(10, start=None, end=None, duration=None)
    return [e for e in found if e is not None] + [awkward, open_ended]


def test_schema_enums_match_the_code() -> None:
    props = SCHEMA["properties"]
    assert list(props) == list(COLUMNS) == SCHEMA["required"]
    assert props["event"]["enum"] == [k.value for k in EventKind]
    assert props["cause"]["enum"] == [c.value for c in Cause]
    assert props["source"]["enum"] == [s.value for s in Source]


def test_every_jsonl_line_validates_against_the_schema_and_parses_back() -> None:
    events = mixed_events()
    lines = list(iter_jsonl(events))
    assert len(lines) == len(events) and all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    for line, event in zip(lines, events, strict=True):
        record = json.loads(line)
        VALIDATOR.validate(record)
        assert record == event.to_record()


def test_schema_rejects_a_broken_line() -> None:
    record = make_event().to_record()
    for broken in ({**record, "event": "teleported"}, {**record, "time": "yesterday"},
                   {k: v for k, v in record.items() if k != "source_id"}, {**record, "extra": 1}):
        assert not VALIDATOR.is_valid(broken)


def test_csv_has_header_then_rows_that_parse_back_to_the_records() -> None:
    events = mixed_events()
    text = "".join(iter_csv(events))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(COLUMNS)
    expected = [[v or "" for v in e.to_record().values()] for e in events]
    assert rows[1:] == expected
    assert text.count("\r\n") >= len(events) + 1 and text.endswith("\r\n")


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_prefixed_with_a_quote(dangerous: str) -> None:
    text = "".join(iter_csv([make_event(justification=dangerous)]))
    row = dict(zip(COLUMNS, list(csv.reader(io.StringIO(text, newline="")))[1], strict=True))
    assert row["justification"] == "'" + dangerous
    assert row["user_id"] == "user-0"  # harmless cells untouched


def test_safe_cell_rules() -> None:
    assert safe_cell(None) == "" and safe_cell("") == "" and safe_cell("a=b") == "a=b"
    assert safe_cell("2026-01-05T10:00:00Z") == "2026-01-05T10:00:00Z"


def _many(count: int) -> Iterator[ComplianceEvent]:
    """A lazy stream of distinct events (cheap to make, so the test measures the writers)."""
    base, minute = make_event(), timedelta(minutes=1)
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
    for n in range(count):
        fields["time"] = fields["start"] = base.time + n * minute
        fields["source_id"] = fields["user_id"] = f"id-{n}"
        yield ComplianceEvent(**fields)


def _peak_bytes(lines: Iterator[str]) -> tuple[int, int]:
    tracemalloc.start()
    try:
        total = sum(len(line) for line in lines)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return total, peak


@pytest.mark.parametrize("writer", [iter_csv, iter_jsonl])
def test_writers_pull_events_one_at_a_time(
    writer: Callable[[Iterable[ComplianceEvent]], Iterator[str]],
) -> None:
    endless = (make_event(n) for n in itertools.count())  # materialising this would never finish
    lines = list(itertools.islice(writer(endless), 3))
    assert len(lines) == 3
    assert next(endless).source_id == ("request-2" if writer is iter_csv else "request-3")


def test_csv_of_100k_events_streams_in_bounded_memory() -> None:
    total, peak = _peak_bytes(iter_csv(_many(100_000)))
    print(f"iter_csv: {total / 1e6:.1f} MB streamed, peak traced {peak / 1e6:.3f} MB")
    assert total > 30_000_000  # the output really is large ...
    assert peak < 2_000_000  # ... and the writer never holds more than a few rows of it
