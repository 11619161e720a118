"""The app is host-loadable: indexed like the worker does, checked against the host's rules."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from shared.queue_names import MAX_DEQUEUE_COUNT
from shared.settings import DEFAULT_FUNCTION_TIMEOUT_SECONDS

from .hostcheck import check_app, check_host_json, find_app, index, load_module

ROOT = Path(__file__).resolve().parents[2]


# Every function the app exposes; a new function must be added here deliberately.
def _http(route: str, *methods: str, auth: str = "FUNCTION") -> dict[str, object]:
    return {"type": "httpTrigger", "route": route, "methods": list(methods), "authLevel": auth}


def _other(kind: str) -> dict[str, object]:
    return {"type": kind, "route": None, "methods": None, "authLevel": None}


# Every function the host will see, with its trigger: a new or renamed function must be added here.
EXPECTED = {
    "health": _http("health", "GET", auth="ANONYMOUS"),
    "enforce_timer": _other("timerTrigger"),
    "full_audit_timer": _other("timerTrigger"),
    "reconcile": _other("queueTrigger"),
    "reconcile_poison": _other("queueTrigger"),
    "ticket_webhook": _http("tickets/{source}", "POST"),
    "request_status_http": _http("requests/{requestId}", "GET"),
    "resync_all": _http("resync", "POST"),
    "resync_app": _http("resync/{appId}", "POST"),
    "list_apps": _http("apps", "GET"),
    "get_app": _http("apps/{appId}", "GET"),
    "app_registration": _http("apps/{appId}/registration", "POST", "DELETE"),
    "compliance_collect": _other("timerTrigger"),
    "compliance_retention": _other("timerTrigger"),
    "compliance_report": _http("report", "GET"),
    "compliance_evidence": _http("apps/{appId}/evidence", "GET"),
    "compliance_findings": _http("findings", "GET"),
}
SCHEDULES = {
    "enforce_timer": "%PIMWARDEN_ENFORCE_SCHEDULE%",
    "full_audit_timer": "%PIMWARDEN_FULL_AUDIT_SCHEDULE%",
    "compliance_collect": "%PIMWARDEN_COLLECT_SCHEDULE%",
    "compliance_retention": "%PIMWARDEN_RETENTION_SCHEDULE%",
}


def test_app_passes_every_host_check() -> None:
    assert check_app(ROOT) == []


def test_exact_function_list_with_triggers_routes_methods_and_auth() -> None:
    functions = index(find_app(load_module(ROOT)))
    found = {
        f.name: {k: f.trigger.get(k) for k in ("type", "route", "methods", "authLevel")} for f in functions
    }
    assert found == EXPECTED
    for f in functions:
        outputs = [b["name"] for b in f.bindings if b["direction"] == "OUT"]
        assert outputs == (["$return"] if f.trigger["type"] == "httpTrigger" else []), f.name
        if f.trigger["type"] == "timerTrigger":
            assert (f.trigger["schedule"], f.trigger["runOnStartup"]) == (SCHEDULES[f.name], False)
        if f.trigger["type"] == "queueTrigger":
            queue = {"reconcile": "pimwarden-reconcile", "reconcile_poison": "pimwarden-reconcile-poison"}
            assert (f.trigger["queueName"], f.trigger["connection"]) == (queue[f.name], "PimWardenStorage")


def test_queue_retry_count_matches_what_the_poison_trigger_records() -> None:
    queues = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]
    assert queues["maxDequeueCount"] == MAX_DEQUEUE_COUNT
    assert queues["messageEncoding"] == "base64"  # what ReconcileQueue sends (TextBase64EncodePolicy)


def test_host_json_is_valid_and_timeout_matches_settings() -> None:
    assert check_host_json(ROOT / "host.json") == []
    host = json.loads((ROOT / "host.json").read_text())
    hours, minutes, seconds = (int(x) for x in host["functionTimeout"].split(":"))
    assert hours * 3600 + minutes * 60 + seconds == DEFAULT_FUNCTION_TIMEOUT_SECONDS
    assert host["logging"]["applicationInsights"]["samplingSettings"]["excludedTypes"] == "Request"


def test_host_json_schema_rejects_a_misspelt_key(tmp_path: Path) -> None:
    bad = json.loads((ROOT / "host.json").read_text()) | {"functionTimeOut": "00:05:00"}
    (tmp_path / "host.json").write_text(json.dumps(bad))
    assert any("functionTimeOut" in p for p in check_host_json(tmp_path / "host.json"))


GET = 'methods=["GET"])\n'
BAD_APPS = {
    "renamed parameter": (f'@app.route(route="x", {GET}def x(request): ...', "'request' has no binding"),
    "admin route": (f'@app.route(route="admin/x", {GET}def x(req): ...', "starts with 'admin'"),
    "duplicate route": (
        f'@app.route(route="x", {GET}def x(req): ...\n@app.route(route="X", {GET}def y(req): ...',
        "also served by x",
    ),
    "five-field timer": (
        '@app.timer_trigger(schedule="*/5 * * * *", arg_name="t")\ndef t(t): ...',
        "6 fields",
    ),
    "bad hour": ('@app.timer_trigger(schedule="0 0 25 * * *", arg_name="t")\ndef t(t): ...', "not valid"),
    "unknown setting": ('@app.timer_trigger(schedule="%NOPE%", arg_name="t")\ndef t(t): ...', "%NOPE%"),
    "unknown connection": (
        '@app.queue_trigger(arg_name="m", queue_name="q", connection="Nope")\ndef q(m): ...',
        "connection 'Nope'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_APPS))
def test_hostcheck_catches(case: str, tmp_path: Path) -> None:
    body, expected = BAD_APPS[case]
    script = f"bad_{case.replace(' ', '_').replace('-', '_')}.py"
    (tmp_path / script).write_text(f"import azure.functions as func\napp = func.FunctionApp()\n{body}\n")
    (tmp_path / "host.json").write_text((ROOT / "host.json").read_text())
    (tmp_path / "local.settings.sample.json").write_text(json.dumps({"Values": {"AzureWebJobsStorage": ""}}))
    problems = check_app(tmp_path, script)
    assert any(expected in p for p in problems), problems


def test_two_function_apps_are_refused(tmp_path: Path) -> None:
    (tmp_path / "twoapps.py").write_text(
        "import azure.functions as func\na = func.FunctionApp()\nb = func.FunctionApp()\n"
    )
    with pytest.raises(ValueError, match="exactly one"):
        find_app(load_module(tmp_path, "twoapps.py"))


# --- the Python worker's own indexer (azure-functions-runtime, installed with --ignore-requires-python)


class _Msg:
    def __init__(self, **fields: object) -> None:
        self.__dict__.update(fields)


class _BindingInfo(_Msg):
    undefined, out, inout = 0, 1, 2  # the proto enum values the runtime reads


PROTOS = types.SimpleNamespace(BindingInfo=_BindingInfo, RpcFunctionMetadata=_Msg, RpcRetryOptions=_Msg)


def _worker_index(app_dir: Path, script: str) -> list[_Msg]:
    runtime = pytest.importorskip(
        "azure_functions_runtime.loader",
        reason="azure-functions-runtime is not installed (`make venv` installs it, --ignore-requires-python)",
    )
    from azure_functions_runtime.bindings.meta import load_binding_registry
    from azure_functions_runtime.functions import Registry

    load_binding_registry()
    find_app(load_module(app_dir, script)).functions_bindings = None
    try:
        functions = runtime.index_function_app(str(app_dir / script))
    finally:
        find_app(load_module(app_dir, script)).functions_bindings = None
    results, _ = runtime.process_indexed_function(PROTOS, Registry(), functions, str(app_dir))
    return list(results)


def test_real_worker_indexer_loads_the_app() -> None:
    metadata = {m.name: m for m in _worker_index(ROOT, "function_app.py")}
    assert set(metadata) == set(EXPECTED)
    trigger = json.loads(metadata["health"].raw_bindings[0])
    assert (trigger["type"], trigger["authLevel"], trigger["route"]) == ("httpTrigger", "ANONYMOUS", "health")
    assert metadata["health"].properties == {"worker_indexed": "True"}


def test_real_worker_indexer_refuses_a_renamed_parameter(tmp_path: Path) -> None:
    (tmp_path / "renamed.py").write_text(
        "import azure.functions as func\napp = func.FunctionApp()\n"
        "@app.timer_trigger(schedule='0 0 * * * *', arg_name='mytimer')\n"
        "def tick(timer): ...\n"
    )
    with pytest.raises(RuntimeError, match="cannot load the tick function") as refused:
        _worker_index(tmp_path, "renamed.py")
    assert type(refused.value).__name__ == "FunctionLoadError"
