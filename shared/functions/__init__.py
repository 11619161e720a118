"""Function blueprints: thin triggers that parse input, call one service function and map the result.

Each module exposes a `bp = func.Blueprint()`; function_app.py registers them. Handler parameter
names must equal their binding names (the worker refuses the whole app otherwise).

Cold start: every new instance imports all of them before its first trigger, and the worker's indexer
needs only the decorators. So a blueprint imports azure.functions and light modules at top (types under
`TYPE_CHECKING`); the engine, Graph, storage, compliance, token and telemetry code is imported in the
handler body, on first use (tests/functions/test_cold_start.py).
"""
