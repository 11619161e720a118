"""The README's settings table: which rows name which settings, and which say the deployment sets them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .bicep import ROOT

DEPLOYED_MARK = "✓"
_NAME = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Row:
    names: tuple[str, ...]  # the backticked names in the Setting cell
    deployed: bool

    def mentions(self, setting: str) -> bool:
        """True when a name of this row is `setting` (`..._X` and `<SOURCE>` stand for a part)."""
        for name in self.names:
            if name.startswith("..._") and setting.endswith(name[3:]):
                return True
            pattern = re.escape(name).replace(re.escape("<SOURCE>"), "[A-Z]+")
            if re.fullmatch(pattern, setting):
                return True
        return False


def settings_rows() -> list[Row]:
    """Rows of the table under "## Settings" (header `| Setting | Default | Meaning | Deployed |`)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("## Settings")
    header = next(i for i in range(start, len(lines)) if lines[i].startswith("| Setting |"))
    columns = [c.strip() for c in lines[header].strip("|").split("|")]
    deployed_at = columns.index("Deployed")
    rows = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        mark = cells[deployed_at] if len(cells) > deployed_at else ""  # a row added without the column
        rows.append(Row(tuple(_NAME.findall(cells[0])), mark == DEPLOYED_MARK))
    return rows
