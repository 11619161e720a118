"""Compliance trail: one timeline of who could get in, who did, when, for how long, why, approved by whom.

Pure modules only (no I/O): the event model, Graph JSON -> events, expiry derivation, ingest cursor
rules, streaming report formats, findings, the evidence view and retention. The collector, the store
and the HTTP report wire these to Graph and Table Storage.
"""
