"""Azure Functions entry point (Python v2 model): composition only.

One FunctionApp (the worker requires exactly one at module top level); every function lives in a
blueprint under shared/functions/. Nothing here reads settings or builds clients.
"""

import azure.functions as func

from shared.functions import compliance, enforce, health, operator, reconcile, requests_status, tickets

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health.bp)
app.register_functions(enforce.bp)
app.register_functions(reconcile.bp)
app.register_functions(tickets.bp)
app.register_functions(requests_status.bp)
app.register_functions(operator.bp)
app.register_functions(compliance.bp)
