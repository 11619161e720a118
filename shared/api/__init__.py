"""The HTTP side of PIM Warden: ticket intake, operator API, request status (services behind thin triggers).

Every route has one service function here that takes plain values (headers, raw body, route values)
and returns an `Answer`; `shared/functions/` only turns `func.HttpRequest` into those values and the
`Answer` into a `func.HttpResponse`. Nothing here performs Graph writes: changes are recorded as
desired state (grants, registrations) and handed to the engine's reconcile.
"""
