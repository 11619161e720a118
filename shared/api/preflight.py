"""`GET /api/health?deep=true`: the preflight (`python -m shared doctor`) for operators.

Behind the reader role (an Entra bearer token), because it names permissions, endpoints and Graph's
errors; the plain health check stays anonymous and says less. 200 when nothing blocks enforcement,
503 with the report otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from shared.api.answers import Answer
from shared.api.wiring import ApiServices
from shared.doctor.run import run_doctor


async def deep_health(api: ApiServices, headers: Mapping[str, str]) -> Answer:
    """Check the caller's reader role, then run every preflight check."""
    await api.tokens.operator(headers, write=False)
    report = await run_doctor(os.environ)
    return Answer(200 if report.ok else 503, report.as_dict())
