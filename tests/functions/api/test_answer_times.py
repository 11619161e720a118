"""Every time the HTTP API answers with carries its UTC offset: the answers of a whole grant's life
(ticket, status read back from PIM, app views, registration, dry-run plan) are walked for naive times."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.clock import iso_time, json_default

from .conftest import FINREPORT, OPERATOR, WAREHOUSE, Env, call_operator, drain, get_status, token
from .test_tickets_flow import generic, send

# A date with a time, in the forms Python and ISO-8601 write it ('T' or a space between).
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<zone>Z|[+-]\d{2}:?\d{2})?")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def naive_times(answer: Any) -> list[str]:
    return [m.group(0) for text in strings(answer) for m in TIME.finditer(text) if not m.group("zone")]


async def test_no_answer_carries_a_time_without_its_offset(env: Env) -> None:
    answers: list[Any] = []
    status, ticket = await send(env, "generic", generic("grant", "RITM1", duration="P7D"))
    assert status == 202
    await drain(env)
    answers += [ticket, await get_status(ticket["request_id"])]
    assert answers[-1]["status"] == "applied" and answers[-1]["detail"]["pim"]["start"]
    for function, route, params, extra in [
        (OPERATOR.list_apps, "apps", {}, {}),
        (OPERATOR.get_app, f"apps/{FINREPORT}", {}, {"appId": FINREPORT}),
        (OPERATOR.resync_all, "resync", {"dryRun": "true"}, {}),
    ]:
        method = "POST" if route == "resync" else "GET"
        _, body = await call_operator(function, method, route, bearer=token(), params=params, **extra)
        answers.append(body)
    assert answers[-2]["eligible"] and answers[-1]["planned_at"]
    await call_operator(OPERATOR.app_registration, "POST", f"apps/{WAREHOUSE}/registration", bearer=token(),
                        body=b'{"profile": "standard"}', appId=WAREHOUSE)
    answers.append((await call_operator(OPERATOR.get_app, "GET", f"apps/{WAREHOUSE}", bearer=token(),
                                        appId=WAREHOUSE))[1])
    assert answers[-1]["registration"]["at"]
    assert sum(len(list(TIME.finditer(t))) for a in answers for t in strings(a)) >= 10  # the walk sees times
    assert naive_times(answers) == []


def test_the_one_formatter_writes_the_offset_even_for_a_naive_time() -> None:
    assert iso_time(datetime(2026, 1, 1, 9, 30)) == "2026-01-01T09:30:00+00:00"
    assert json_default(datetime(2026, 1, 1, 9, 30, tzinfo=UTC)) == "2026-01-01T09:30:00+00:00"
    assert naive_times({"a": ["2026-01-01T09:30:00", "2026-01-01 09:30:00+00:00"]}) == ["2026-01-01T09:30:00"]
