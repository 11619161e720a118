"""Graph date-times: every form Graph sends parses to an aware UTC instant; nothing naive gets through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.compliance import graph_values
from shared.domain.times import GraphTimeError, format_graph_time, parse_graph_time
from shared.graph import mapping

INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timedelta(minutes=m))


def graph_text(instant: datetime, digits: int, offset: timedelta, zulu: bool) -> str:
    """`instant` as Graph could write it: `digits` fractional digits, `Z` or an offset."""
    local = instant.astimezone(timezone(offset))
    fraction = f"{local.microsecond:06d}0"[:digits]  # 7th digit: Graph's 100 ns, always 0 here
    head = local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "")
    if zulu and offset == timedelta(0):
        return head + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{head}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def truncated(instant: datetime, digits: int) -> datetime:
    keep = 10 ** (6 - min(digits, 6))
    return instant.replace(microsecond=instant.microsecond // keep * keep)


@given(INSTANTS, st.integers(min_value=0, max_value=7), OFFSETS, st.booleans())
def test_every_form_parses_to_the_same_aware_utc_instant(
    instant: datetime, digits: int, offset: timedelta, zulu: bool
) -> None:
    text = graph_text(instant, digits, offset, zulu)
    parsed = parse_graph_time(text)
    assert parsed.tzinfo is UTC
    assert parsed == truncated(instant, digits)


@given(INSTANTS)
def test_what_is_sent_reads_back_the_same(instant: datetime) -> None:
    whole = instant.replace(microsecond=0)
    assert parse_graph_time(format_graph_time(instant)) == whole
    assert format_graph_time(parse_graph_time(format_graph_time(instant))) == format_graph_time(instant)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-02-07T06:57:54.1633903Z", datetime(2023, 2, 7, 6, 57, 54, 163390, tzinfo=UTC)),
        ("2022-04-12T14:44:50.287Z", datetime(2022, 4, 12, 14, 44, 50, 287000, tzinfo=UTC)),
        ("2018-12-22T02:21:05Z", datetime(2018, 12, 22, 2, 21, 5, tzinfo=UTC)),
        ("2023-02-07T06:57:54.1633903+01:00", datetime(2023, 2, 7, 5, 57, 54, 163390, tzinfo=UTC)),
        ("2023-02-07T06:57:54.1633903-05:30", datetime(2023, 2, 7, 12, 27, 54, 163390, tzinfo=UTC)),
    ],
)
def test_documented_examples(text: str, expected: datetime) -> None:
    assert parse_graph_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2023-02-07T06:57:54", "2023-02-07T06:57:54.1633903", "2023-02-07", "", "yesterday",
     "2023-02-30T00:00:00Z", "2023-02-07T06:57:54+25:00", "2023-02-07 06:57:54Z"],
)
def test_anything_without_a_zone_or_malformed_is_refused(text: str) -> None:
    with pytest.raises(GraphTimeError):
        parse_graph_time(text)


def test_a_naive_datetime_is_never_sent() -> None:
    with pytest.raises(GraphTimeError):
        format_graph_time(datetime(2023, 2, 7, 6, 57, 54))


def test_gateway_mapping_keeps_the_zone_of_seven_digit_times() -> None:
    # The regression: the old parser took the offset's digits for fraction digits and lost the zone.
    instance = mapping.eligibility(
        {"principalId": "u", "groupId": "g", "accessId": "member",
         "startDateTime": "2023-02-07T06:57:55.6183972Z", "endDateTime": "2023-02-07T19:56:00Z"},
        mapping.parse_time("2023-02-07T06:57:54.1633903Z"),
    )
    assert instance is not None and instance.created is not None
    assert instance.start.tzinfo is UTC and instance.created.tzinfo is UTC
    assert instance.end == datetime(2023, 2, 7, 19, 56, tzinfo=UTC)
    with pytest.raises(GraphTimeError):
        mapping.parse_time("2023-02-07T06:57:54.1633903")


def test_compliance_reader_reads_the_same_forms_and_none_for_the_rest() -> None:
    assert graph_values.parse_time("2023-02-07T07:05:53.7895614Z") == datetime(
        2023, 2, 7, 7, 5, 53, 789561, tzinfo=UTC)
    assert graph_values.parse_time("2023-02-07T07:05:53") is None
    assert graph_values.parse_time(datetime(2023, 2, 7)) is None
