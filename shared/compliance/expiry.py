"""Expiry as an event: access that ended because its time ran out, recorded at its END time.

PIM writes no request when a schedule simply runs out, so the collector compares the schedule
instances it saw last time with the ones it sees now. An instance whose end has passed and that was
not ended early (a deactivation or removal between its start and end) expired at exactly its end
time, whenever the collector notices; the event id comes from the instance itself, so noticing it
again (PIM can lag in removing an ended instance) changes nothing.

One source per fact: PIM's directory audit also logs "Remove member from role (PIM activation
expired)". The collector should take activation expiry from ONE of the two; it feeds eligibility
instances here (no audit activity exists for eligibility expiry). See docs/compliance.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.compliance import graph_values as gv
from shared.compliance.events import Cause, ComplianceEvent, EventKind, Source, format_time
from shared.compliance.mapping import MappingContext, is_ending


class InstanceLike(Protocol):
    """An eligibility or assignment schedule instance (domain types and ScheduleInstance fit)."""

    @property
    def principal_id(self) -> str: ...
    @property
    def group_id(self) -> str: ...
    @property
    def start(self) -> datetime | None: ...
    @property
    def end(self) -> datetime | None: ...


@dataclass(frozen=True)
class ScheduleInstance:
    """A schedule instance; `assignment_type` None for eligibility, 'activated'/'assigned' for active."""

    principal_id: str
    group_id: str
    start: datetime | None
    end: datetime | None
    assignment_type: str | None = None
    access_id: str = "member"


def instance_from_graph(data: object, *, eligibility: bool) -> ScheduleInstance | None:
    """An eligibilityScheduleInstance / assignmentScheduleInstance JSON as a ScheduleInstance, or None."""
    principal, group = gv.text(data, "principalId"), gv.text(data, "groupId")
    if principal is None or group is None:
        return None
    kind = None if eligibility else (gv.lower(data, "assignmentType") or "activated")
    return ScheduleInstance(
        principal_id=principal, group_id=group, start=gv.time_at(data, "startDateTime"),
        end=gv.time_at(data, "endDateTime"), assignment_type=kind,
        access_id=gv.lower(data, "accessId") or "member",
    )


def expiry_kind(instance: InstanceLike) -> EventKind:
    """eligibility_expired, activation_expired or assignment_expired, by the instance's type."""
    kind = str(getattr(instance, "assignment_type", None) or "").lower()
    if kind == "activated":
        return EventKind.ACTIVATION_EXPIRED
    return EventKind.ASSIGNMENT_EXPIRED if kind == "assigned" else EventKind.ELIGIBILITY_EXPIRED


def expiries(
    before: Iterable[InstanceLike],
    current: Iterable[InstanceLike],
    now: datetime,
    ctx: MappingContext,
    ended_early: Iterable[ComplianceEvent] = (),
) -> list[ComplianceEvent]:
    """Expiry events for member-role instances whose end passed by `now`, oldest first."""
    candidates = {_key(i): i for i in before if _is_member(i)}
    candidates.update({_key(i): i for i in current if _is_member(i)})
    endings = [e for e in ended_early if is_ending(e)]
    found = [
        _event(instance, ctx)
        for instance in candidates.values()
        if instance.end is not None and instance.end <= now and not _ended_early(instance, endings)
    ]
    return sorted(found, key=lambda e: (e.time, e.event_id))


def _key(instance: InstanceLike) -> tuple[str, str, EventKind, datetime | None]:
    return instance.group_id, instance.principal_id, expiry_kind(instance), instance.start


def _is_member(instance: InstanceLike) -> bool:
    return str(getattr(instance, "access_id", "member")).lower() == "member"


def _ended_early(instance: InstanceLike, endings: list[ComplianceEvent]) -> bool:
    end = instance.end
    assert end is not None
    return any(
        e.group_id == instance.group_id and e.user_id == instance.principal_id
        and (instance.start is None or instance.start <= e.time) and e.time < end
        for e in endings
    )


def _event(instance: InstanceLike, ctx: MappingContext) -> ComplianceEvent:
    end, start, kind = instance.end, instance.start, expiry_kind(instance)
    assert end is not None
    started = format_time(start) if start else ""
    return ComplianceEvent(
        time=end, event=kind, app_id=ctx.app.app_id, app_name=ctx.app.app_name,
        group_id=instance.group_id, user_id=instance.principal_id,
        user_upn=ctx.upn(instance.principal_id), source=Source.SCHEDULE_END,
        source_id=f"{instance.group_id}|{instance.principal_id}|{started}|{format_time(end)}",
        cause=Cause.PIM, trigger="schedule_end", start=start, end=end,
        duration=gv.iso_duration(end - start) if start else None,
    )
