"""The README's "Graph permissions" table, generated from the manifest (a test keeps them equal).

`python -m shared.permissions.docs --write` rewrites the block between the markers in README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shared.permissions.manifest import Manifest, Need, load_manifest

START, END = (
    "<!-- permissions:start (generated from shared/permissions/manifest.json) -->",
    "<!-- permissions:end -->",
)
README = Path(__file__).resolve().parents[2] / "README.md"
_LEARN = "https://learn.microsoft.com/graph/api/"


def learn_url(page: str) -> str:
    """The Microsoft Learn URL of a microsoft-graph-docs-contrib v1.0 page."""
    name = page.removeprefix("api-reference/v1.0/").removeprefix("api/").removesuffix(".md")
    return f"{_LEARN}{name}?view=graph-rest-1.0"


def markdown(manifest: Manifest | None = None) -> str:
    """The permission table, one row per manifest entry."""
    manifest = manifest or load_manifest()
    rows = ["| Permission | Needed | Why | Documented on |", "| --- | --- | --- | --- |"]
    for p in manifest.permissions:
        needed = "always" if p.need is Need.ALWAYS else f"with {p.setting} (`--with-{p.option}`)"
        pages = ", ".join(f"[{_short(d)}]({learn_url(d)})" for d in p.docs)
        rows.append(f"| `{p.name}` | {needed} | {p.why} | {pages} |")
    return "\n".join([START, *rows, END])


def _short(page: str) -> str:
    return page.rsplit("/", 1)[-1].removesuffix(".md")


def readme_block(text: str) -> str:
    """The generated block as it stands in a README text ('' when the markers are missing)."""
    if START not in text or END not in text:
        return ""
    return text[text.index(START) : text.index(END) + len(END)]


def write_readme(path: Path = README) -> None:
    """Replace the README's block with the one generated from the manifest."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(readme_block(text), markdown()), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_readme()
    else:
        print(markdown())
