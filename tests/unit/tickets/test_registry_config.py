"""Choosing a source by route name and parsing its JSON mapping setting."""

from __future__ import annotations

import pytest

from shared.tickets.adapters import SOURCES, UnknownSource, get_source, load_source
from shared.tickets.adapters.jira import JiraConfig
from shared.tickets.adapters.servicenow import ServiceNowConfig
from shared.tickets.decisions import Ignored
from shared.tickets.errors import ConfigError


def test_three_sources_are_registered() -> None:
    assert sorted(SOURCES) == ["generic", "jira", "servicenow"]
    assert get_source("servicenow").mapping_setting == "PIMWARDEN_TICKETS_SERVICENOW_MAPPING"


@pytest.mark.parametrize("name", ["GENERIC", "github", "", "generic/../jira"])
def test_unknown_source_names_are_refused(name: str) -> None:
    with pytest.raises(UnknownSource):
        get_source(name)


def test_defaults_apply_when_the_setting_is_absent() -> None:
    assert load_source("servicenow", None).config == ServiceNowConfig()
    assert load_source("generic", "  ").config == load_source("generic", "{}").config


def test_mapping_overrides_defaults_and_lists_become_tuples() -> None:
    bound = load_source(
        "servicenow", '{"user_field": "u_upn", "grant_states": ["-1", "Implement"], "duration_field": null}'
    )
    assert bound.config == ServiceNowConfig(
        user_field="u_upn", grant_states=("-1", "Implement"), duration_field=None
    )


def test_bound_adapter_adapts_with_its_config() -> None:
    bound = load_source("jira", '{"app_field": "customfield_1", "user_field": "customfield_2"}')
    assert bound.config == JiraConfig(app_field="customfield_1", user_field="customfield_2")
    assert bound({"webhookEvent": "sprint_started", "timestamp": 1700000000000}) == Ignored(
        "event 'sprint_started' is not an issue event"
    )


@pytest.mark.parametrize(
    ("source", "text", "fragment"),
    [
        ("servicenow", "{", "is not valid JSON"),
        ("servicenow", "[]", "must be a JSON object"),
        ("servicenow", '{"usr_field": "x"}', "unknown field 'usr_field'"),
        ("servicenow", '{"user_field": 5}', "user_field: must be a non-empty string"),
        ("servicenow", '{"user_field": null}', "user_field: must not be null"),
        ("servicenow", '{"grant_states": "2"}', "grant_states: must be a list of non-empty strings"),
        ("jira", '{"revoke_on_delete": "yes"}', "revoke_on_delete: must be true or false"),
        ("jira", "{}", "missing 2 required"),
    ],
)
def test_bad_mappings_name_the_setting_and_the_problem(source: str, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_source(source, text)
    assert caught.value.setting == get_source(source).mapping_setting
    assert fragment in str(caught.value)
