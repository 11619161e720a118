""".funcignore ships only what runs, under gitignore semantics as two independent engines read it:
`pathspec` (last matching pattern wins, per path) and git itself (which also prunes excluded
directories), applied to the repository's files plus stray files that must never ship."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pathspec
import pytest

from .bicep import ROOT

STRAYS = [".env", ".env.local", "local.settings.json", "x.log", "shared/.env", "shared/debug.log",
          "shared/local.settings.json", "shared/__pycache__/settings.cpython-311.pyc",
          "shared/domain/__pycache__/planner.cpython-311.pyc", ".venv/lib/python3.11/site-packages/x.py",
          "node_modules/azurite/package.json", "tests/infra/test_x.py", "graphsim/app.py",
          "devstack/x.py", "bench/results.json", ".azurite/__azurite_db_table__.json"]
NEVER = ("tests/", "graphsim/", "devstack/", "bench/", ".venv/", "node_modules/", "docs/", "infra/", ".ci/")


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]


def _candidates() -> list[str]:
    return sorted(set(_tracked()) | set(STRAYS))


def _expected(files: list[str]) -> set[str]:
    runs = {"host.json", "function_app.py", "requirements.txt"}
    return runs | {f for f in files if f.startswith("shared/") and "__pycache__" not in f
                   and not f.endswith((".pyc", ".log", ".env", "local.settings.json"))}


def _shipped_by_pathspec(files: list[str]) -> set[str]:
    spec = pathspec.GitIgnoreSpec.from_lines((ROOT / ".funcignore").read_text().splitlines())
    return {f for f in files if not spec.match_file(f)}


def _shipped_by_git(files: list[str], tmp: Path) -> set[str]:
    """Files git would not ignore with .funcignore as its only exclude file (real directory walk)."""
    subprocess.run(["git", "init", "-q", str(tmp)], check=True)
    for name in files:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text("")
    for own_ignore in tmp.rglob(".gitignore"):
        own_ignore.unlink()  # only .funcignore decides
    command = ["git", "-c", f"core.excludesFile={ROOT / '.funcignore'}",
               "ls-files", "--others", "--exclude-standard"]
    out = subprocess.run(command, cwd=tmp, capture_output=True, text=True, check=True).stdout
    return {line for line in out.splitlines() if line} - {".gitignore"}


def test_pathspec_ships_only_what_runs() -> None:
    files = _candidates()
    shipped = _shipped_by_pathspec(files)
    assert shipped == _expected(files)
    assert {"shared/profiles.json", "shared/permissions/manifest.json", "shared/settings.py"} <= shipped
    assert not [f for f in shipped if f.startswith(NEVER)]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_ships_the_same_files(tmp_path: Path) -> None:
    files = [f for f in _candidates() if f != ".gitignore"]
    assert _shipped_by_git(files, tmp_path) == _shipped_by_pathspec(files) == _expected(files)


def test_every_module_the_app_imports_ships() -> None:
    python = {f for f in _tracked() if f.startswith("shared/") and f.endswith(".py")}
    assert python and python <= _shipped_by_pathspec(_candidates())
