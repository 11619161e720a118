"""Azure Functions entry point (Python v2 model): composition only.

One FunctionApp (the worker requires exactly one at module top level); every function lives in a
blueprint under shared/functions/. Nothing here reads settings or builds clients.
"""

import azure.functions as func

from shared.functions import health

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health.bp)
