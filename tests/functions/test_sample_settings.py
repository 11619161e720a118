"""local.settings.sample.json lists every setting the code reads, and nothing the code does not read.

The list is taken from the code, not written twice: every settings reader (foundation, engine, HTTP
API, compliance trail, credentials) runs over a recording environment, and every `%NAME%` a binding of
the function app names is added (the host resolves those)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from shared.api.config import ApiConfig
from shared.compliance.service import ComplianceConfig
from shared.credentials import build_credential
from shared.engine.services import engine_config
from shared.settings import Settings

from .hostcheck import SETTING_RE, find_app, index, load_module

ROOT = Path(__file__).resolve().parents[2]
SAMPLE: dict[str, str] = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
# read by the Functions host and the Python worker themselves (the worker configures telemetry)
HOST_OWNED = {
    "FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY", "PYTHON_ENABLE_OPENTELEMETRY",
}


class Recording(Mapping[str, str]):
    """An environment that remembers every name asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:
        self.asked.add(name)
        return self._values.get(name, default)

    def __contains__(self, name: object) -> bool:
        self.asked.add(str(name))
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def settings_the_code_reads() -> set[str]:
    env = Recording({**SAMPLE, "PIMWARDEN_API_TENANT_ID": "11111111-2222-3333-4444-555555555555"})
    settings = Settings.from_env(env)
    engine_config(settings, env)
    ApiConfig.from_env(env)
    ComplianceConfig.from_env(env)
    build_credential(settings, env)
    bindings = json.dumps([f.bindings for f in index(find_app(load_module(ROOT)))])
    return env.asked | set(SETTING_RE.findall(bindings))


def test_the_sample_lists_every_setting_the_code_reads() -> None:
    read = settings_the_code_reads()
    assert len(read) > 40  # the recording sees the readers
    assert sorted(read - set(SAMPLE)) == []


def test_the_sample_lists_nothing_the_code_does_not_read() -> None:
    assert sorted(set(SAMPLE) - settings_the_code_reads() - HOST_OWNED) == []
