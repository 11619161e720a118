"""Reporting an app that selectors or a registration point at but PIM Warden may never manage.

The engine's last line of defence: whatever brought the app here (a tag, an attribute, a registration
stored before the rule existed), a refused service principal is recorded once as `AppRefused` and
its record marked `refused`; nothing is written to Graph.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shared.domain.manageable import Refused
from shared.domain.model import ServicePrincipal
from shared.engine.record import AppRecords
from shared.engine.services import Services
from shared.storage import AppStatus, AuditEvent, ManagedApp


async def report_unmanageable(
    services: Services, sp: ServicePrincipal, record: ManagedApp | None, refused: Refused, cause: str,
    now: datetime,
) -> None:
    """Record the refusal (audit event on the first report only) and mark the app's record refused."""
    message = f"{refused.code}: {refused.message}"
    if record is None or record.status is not AppStatus.REFUSED or record.last_error != message:
        await services.store.audit.append(refusal_event(str(sp.id), refused, cause, now, "AppRefused"))
    await AppRecords(services.store).change(
        str(sp.id), sp.display_name,
        lambda r: replace(
            r, display_name=sp.display_name or r.display_name, status=AppStatus.REFUSED, in_scope=False,
            last_error=message, last_reconcile=now,
        ),
    )


def refusal_event(app_id: str, refused: Refused, cause: str, now: datetime, action: str) -> AuditEvent:
    """The audit event of one refusal (`AppRefused` by the engine, `RegistrationRefused` on request)."""
    return AuditEvent(
        when=now, app_id=app_id, action=action, cause=cause,
        actor="pimwarden" if action == "AppRefused" else cause, target=app_id, outcome="refused",
        detail=f"{refused.code}: {refused.message}",
    )
