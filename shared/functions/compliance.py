"""Compliance trail triggers: the collector and retention timers, and the report, evidence and findings
endpoints. Thin: parse, call one service function, map the result to HTTP.

The trail is privileged data: the endpoints need the Functions key AND an operator API bearer token
with the reader role (as `GET /api/apps`); the Functions key alone is what ticket systems hold.

A client's mistake is a 400 with a JSON body naming the bad parameter, never a 500. The report is
paged: azure-functions 1.26 sends a response as one whole body, so each request answers at most
`pageSize` events and, when more follow, an `X-Continuation-Token` header (and a `Link: rel="next"`)
to pass back as `continuation`. The CLI streams a whole range in one go (`python -m shared report`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import azure.functions as func

from shared.api.answers import Answer
from shared.api.http import handle, headers_of
from shared.clock import json_default
from shared.compliance.retention import DEFAULT_RETENTION_DAYS
from shared.compliance.window import BadWindow, check_window

if TYPE_CHECKING:
    from shared.api.wiring import ApiServices
    from shared.compliance.service import ComplianceServices, ReportFormat

bp = func.Blueprint()  # type: ignore[no-untyped-call]
log = logging.getLogger("pimwarden.compliance")
_APP_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class BadParameter(ValueError):
    """A query parameter the client got wrong."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"{name}: {reason}")


def compliance_services() -> ComplianceServices:
    """The services over the runtime's clients (built lazily, per event loop)."""
    from shared.compliance import service
    from shared.engine.services import build_services

    return service.build_compliance(build_services(), os.environ)


@bp.timer_trigger(schedule="%PIMWARDEN_COLLECT_SCHEDULE%", arg_name="timer", run_on_startup=False,
                  use_monitor=True)
async def compliance_collect(timer: func.TimerRequest) -> None:
    """Ingest new PIM and PIM Warden events for every managed app; fail the run if an app failed."""
    from shared.compliance import service

    summary = await service.run_collect(compliance_services())
    log.info("%s past_due=%s", summary.line(), str(timer.past_due).lower())
    if summary.failed:
        raise RuntimeError("; ".join(f"{a.app_id}: {a.error}" for a in summary.failed))


@bp.timer_trigger(schedule="%PIMWARDEN_RETENTION_SCHEDULE%", arg_name="timer", run_on_startup=False,
                  use_monitor=True)
async def compliance_retention(timer: func.TimerRequest) -> None:
    """Delete compliance events older than the retention period."""
    from shared.compliance import service

    deleted = await service.run_retention(compliance_services())
    log.info("retention deleted=%d", deleted)


@dataclass(frozen=True)
class ReportQuery:
    """The validated report parameters."""

    app: str
    start: datetime
    end: datetime
    fmt: ReportFormat
    continuation: str | None
    page_size: int | None


def parse_report_query(params: Any, now: datetime, max_days: int = DEFAULT_RETENTION_DAYS) -> ReportQuery:
    """Validate `app`, `from`, `to` (default now; a bounded range, see shared.compliance.window),
    `format`, `continuation`, `pageSize`; BadParameter naming the first bad one."""
    from shared.compliance import service
    from shared.compliance.service import ReportFormat

    start = _instant(params, "from", None)
    end = _instant(params, "to", now)
    try:
        check_window(start, end, now, max_days)
    except BadWindow as error:
        raise BadParameter(error.parameter, str(error)) from None
    fmt_text = (params.get("format") or "json").lower()
    if fmt_text not in {f.value for f in ReportFormat}:
        raise BadParameter("format", "must be json or csv")
    size_text = params.get("pageSize")
    digits = size_text is not None and re.fullmatch(r"[0-9]{1,6}", size_text)
    if size_text is not None and (not digits or not 1 <= int(size_text) <= service.MAX_PAGE_SIZE):
        raise BadParameter("pageSize", f"must be a whole number from 1 to {service.MAX_PAGE_SIZE}")
    token = params.get("continuation") or None
    if token is not None:
        _checked_token(token)
    return ReportQuery(_app(params.get("app")), start, end, ReportFormat(fmt_text), token,
                       int(size_text) if size_text else None)


@bp.route(route="report", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def compliance_report(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/report?app=…&from=…&to=…&format=json|csv[&continuation=…][&pageSize=…]."""
    from shared.compliance import service
    from shared.telemetry.compliance import report_rows

    if refused := await reader_refusal(req):
        return refused
    services = compliance_services()
    try:
        query = parse_report_query(req.params, services.clock.now(), services.config.retention_days)
    except BadParameter as error:
        return _bad(error)
    if not await services.store.apps.exists(query.app):
        return _json({"error": "not_found", "detail": f"no managed app {query.app!r}"}, 404)
    page = await service.report_page(services, query.app, query.start, query.end, query.fmt,
                                     query.continuation, query.page_size)
    headers = _next_headers(req, page.next_token)
    report_rows(page.count, query.fmt.value)
    return func.HttpResponse(page.body, status_code=200, mimetype=query.fmt.media_type, charset="utf-8",
                             headers=headers)


@bp.route(route="apps/{appId}/evidence", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def compliance_evidence(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/apps/{appId}/evidence: the app's evidence view."""
    from shared.compliance import service
    from shared.compliance.service import UnknownApp
    from shared.storage import UnreadableRecordError

    if refused := await reader_refusal(req):
        return refused
    try:
        app = _app(req.route_params.get("appId"))
        evidence = await service.app_evidence(compliance_services(), app)
    except BadParameter as error:
        return _bad(error)
    except UnknownApp as error:
        return _json({"error": "not_found", "detail": str(error)}, 404)
    except UnreadableRecordError as error:
        return _json({"error": "state_unreadable", "detail": f"the app's stored record cannot be read "
                      f"(property {error.property})"}, 409)
    return func.HttpResponse(evidence.to_json(), status_code=200, mimetype="application/json")


@bp.route(route="findings", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def compliance_findings(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/findings?app=…: what an auditor should see without asking."""
    from shared.compliance import service
    from shared.compliance.service import UnknownApp
    from shared.storage import UnreadableRecordError

    if refused := await reader_refusal(req):
        return refused
    try:
        app = _app(req.params.get("app"))
        found = await service.app_findings(compliance_services(), app)
    except BadParameter as error:
        return _bad(error)
    except UnknownApp as error:
        return _json({"error": "not_found", "detail": str(error)}, 404)
    except UnreadableRecordError as error:
        return _json({"error": "state_unreadable", "detail": f"the app's stored record cannot be read "
                      f"(property {error.property})"}, 409)
    return _json({"app": app, "findings": [{**vars(f), "evidence": list(f.evidence)} for f in found]}, 200)


async def reader_refusal(req: func.HttpRequest) -> func.HttpResponse | None:
    """None when the request carries a bearer token with the reader role; else the 401/403/503 answer."""

    async def check(api: ApiServices) -> Answer:
        await api.tokens.operator(headers_of(req), write=False)
        return Answer(200, {})

    response = await handle(check)
    return None if response.status_code == 200 else response


def _app(value: str | None) -> str:
    if not value:
        raise BadParameter("app", "required: the managed app's id")
    if not _APP_RE.match(value):
        raise BadParameter("app", "must be an app id (letters, digits, '-', '.', '_', ':')")
    return value


def _instant(params: Any, name: str, default: datetime | None) -> datetime:
    text = params.get(name)
    if not text:
        if default is None:
            raise BadParameter(name, "required: an ISO-8601 time with a time zone, e.g. 2026-01-01T00:00:00Z")
        return default
    try:
        value = datetime.fromisoformat(text.replace(" ", "+"))  # a '+' in a query string arrives as ' '
    except ValueError:
        raise BadParameter(name, "must be an ISO-8601 time, e.g. 2026-01-01T00:00:00Z") from None
    if value.tzinfo is None:
        raise BadParameter(name, "needs a time zone (Z or +hh:mm)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is past the last representable instant
        raise BadParameter(name, "is out of range") from None


def _checked_token(token: str) -> None:
    from shared.compliance.service import BadToken, decode_token

    try:
        decode_token(token)
    except BadToken as error:
        raise BadParameter("continuation", str(error)) from error


def _next_headers(req: func.HttpRequest, token: str | None) -> dict[str, str]:
    if token is None:
        return {}
    params = {k: v for k, v in req.params.items() if k not in ("continuation", "code")}
    url = req.url.split("?", 1)[0] + "?" + urlencode({**params, "continuation": token})
    return {"X-Continuation-Token": token, "Link": f'<{url}>; rel="next"'}


def _bad(error: BadParameter) -> func.HttpResponse:
    return _json({"error": "bad_request", "parameter": error.name, "detail": str(error)}, 400)


def _json(body: dict[str, Any], status: int) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body, default=json_default), status_code=status,
                             mimetype="application/json")
