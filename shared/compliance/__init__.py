"""Compliance trail: one timeline of who could get in, who did, when, for how long, why, approved by whom.

The pure core (no I/O): the event model, Graph JSON -> events, expiry derivation, ingest cursor rules,
streaming report formats, findings, the evidence view and retention. `collector.py` and `service.py`
are the thin shell that wires them to Graph (shared/graph/compliance_reads.py), Table Storage
(shared/storage/events.py), the timers, HTTP and the CLI.
"""
