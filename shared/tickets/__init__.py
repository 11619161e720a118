"""Ticket webhooks: signature schemes, source adapters and delivery keys (pure, no I/O).

A webhook request crosses three gates before it can touch anything: the signature is verified over
the raw bytes (`signatures`), the delivery key is computed for idempotency (`delivery`), and the
source adapter turns the parsed payload into one `Decision` (`adapters`). None of this does I/O;
the HTTP function, the delivery store and the enforcement engine are wired around it elsewhere.
"""
