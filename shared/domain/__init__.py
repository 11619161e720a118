"""The pure core of PIM Warden: what Graph shows, what we want, and the plan between them (no I/O)."""
