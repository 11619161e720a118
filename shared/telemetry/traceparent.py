"""The W3C `traceparent` format, without importing OpenTelemetry (reconcile messages are parsed with it,
and their module is imported at cold start)."""

from __future__ import annotations

import re

TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
