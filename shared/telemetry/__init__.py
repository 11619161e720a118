"""PIM Warden's own telemetry: OpenTelemetry spans and metrics through the API only.

The Azure Functions Python worker configures the Azure Monitor distro (host.json `telemetryMode`,
app setting `PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY`); the app never configures a provider.
Without one (local runs, the CLI, most tests) every call here is a no-op of the API.
"""
