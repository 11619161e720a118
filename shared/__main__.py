"""`python -m shared ...`: the operator CLI (see shared/cli/main.py and docs/operator-cli.md)."""

from __future__ import annotations

import sys

from shared.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
