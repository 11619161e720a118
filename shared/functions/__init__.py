"""Function blueprints: thin triggers that parse input, call one service function and map the result.

Each module exposes a `bp = func.Blueprint()`; function_app.py registers them. Handler parameter
names must equal their binding names (the worker refuses the whole app otherwise).
"""
