"""The Jira mapping examples users copy from README.md and docs/tickets.md keep revoking on every
default closing status (a list you set replaces the default one)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.tickets.adapters import load_source
from shared.tickets.decisions import RevokeEligibility

ROOT = Path(__file__).resolve().parents[3]
APP = "6f1c2a4e-0d7b-4c55-9a3e-2b8f1d9c7e10"


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"`PIMWARDEN_TICKETS_JIRA_MAPPING` to your custom fields, e\.g\.\n`(\{.*?\})`", text)
    assert match, "the README's Jira mapping example moved"
    return match.group(1)


def docs_example() -> str:
    text = (ROOT / "docs" / "tickets.md").read_text()
    section = text[text.index("`PIMWARDEN_TICKETS_JIRA_MAPPING` (`app_field`"):]
    return section[section.index("```json\n") + 8 : section.index("\n```", section.index("```json"))]


def transition(status: str, mapping: dict[str, object]) -> dict[str, object]:
    return {
        "timestamp": 1_772_366_400_000,
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": "ACCESS-1", "fields": {
            "summary": "access",
            str(mapping["app_field"]): APP,
            str(mapping["user_field"]): "ann@contoso.com",
        }},
        "changelog": {"items": [{"field": "status", "toString": status}]},
    }


@pytest.mark.parametrize("example", [readme_example, docs_example])
@pytest.mark.parametrize("status", ["Done", "Closed", "Declined", "Canceled", "Cancelled"])
def test_documented_jira_mapping_revokes_on_every_default_closing_status(
    example: Callable[[], str], status: str
) -> None:
    text = example()
    adapter = load_source("jira", text)
    assert isinstance(adapter(transition(status, json.loads(text))), RevokeEligibility)
