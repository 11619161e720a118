"""The preflight (`python -m shared doctor`, `GET /api/health?deep=true`): is this deployment able to
enforce? Pure checks in `checks.py`, the I/O behind them in `probes.py`, the run in `run.py`."""
