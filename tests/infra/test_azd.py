"""azure.yaml and main.bicep as azd reads them: one `function` service on the repository root, the
parameters file, and the outputs a new user needs (app URL, identity ids, webhook URL per source)."""

from __future__ import annotations

import json

import yaml

from shared.tickets.adapters import SOURCES
from tests.functions.hostcheck import find_app, index, load_module

from .bicep import ROOT, body, parse, resources
from .deployed import FUNCTION, MAIN, app_settings, main_scope
from .readme_table import settings_rows


def _outputs() -> dict[str, str]:
    return {name: output["value"] for name, output in parse(MAIN)["outputs"].items()}


def test_azure_yaml_deploys_the_root_as_one_python_function_service() -> None:
    project = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert project["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert list(project["services"]) == [main_scope().lookup("serviceName")]
    service = project["services"]["function"]
    assert service == {"project": ".", "language": "python", "host": "function"}
    site = body(resources(FUNCTION, "Microsoft.Web/sites")["site"])
    assert site["tags"]["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "serviceName"}


def test_the_parameters_file_matches_main_bicep() -> None:
    given = json.loads((ROOT / "infra" / "main.parameters.json").read_text())["parameters"]
    declared = parse(MAIN)["parameters"]
    assert set(given) <= set(declared)
    required = {name for name, p in declared.items() if p["default"] is None}
    assert required <= set(given)
    assert given["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert given["location"]["value"] == "${AZURE_LOCATION}"


def test_outputs_give_the_app_url_and_the_identity() -> None:
    outputs = _outputs()
    assert outputs["APP_URL"] == "appUrl"
    assert main_scope().lookup("appUrl").path == "https://${functionApp.outputs.defaultHostName}"
    assert outputs["IDENTITY_PRINCIPAL_ID"] == {"operator": {"type": "property_accessor", "operands": {
        "operand_1": "identity", "operand_2": {"operator": {"type": "property_accessor", "operands": {
            "operand_1": "outputs", "operand_2": "principalId"}}}}}}
    assert "IDENTITY_CLIENT_ID" in outputs and "KEY_VAULT_NAME" in outputs


def test_there_is_a_webhook_url_output_for_every_ticket_source_and_it_is_the_route() -> None:
    routes = {b.get("route") for f in index(find_app(load_module(ROOT))) for b in f.bindings}
    assert "tickets/{source}" in routes
    host = json.loads((ROOT / "host.json").read_text())
    prefix = host["extensions"]["http"]["routePrefix"]
    webhooks = {name: value for name, value in _outputs().items() if name.startswith("WEBHOOK_URL_")}
    assert webhooks == {f"WEBHOOK_URL_{s.upper()}": f"${{appUrl}}/{prefix}/tickets/{s}" for s in SOURCES}


def test_the_readme_settings_table_marks_exactly_what_the_deployment_sets() -> None:
    deployed = set(app_settings())
    rows = settings_rows()
    wrong = [row.names for row in rows if row.deployed != any(row.mentions(s) for s in deployed)]
    assert not wrong, f"README 'Deployed' column disagrees with infra/ for {wrong}"
    ours = {s for s in deployed if s.startswith(("PIMWARDEN_", "PimWardenStorage__"))
            and not s.endswith("__credential")}  # the identity-connection convention, not ours
    undocumented = {s for s in ours if not any(row.mentions(s) for row in rows)}
    assert not undocumented, f"deployed settings missing from the README table: {sorted(undocumented)}"
