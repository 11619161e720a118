"""PIM Warden: keeps every high-value private application behind just-in-time access with PIM for Groups."""

__version__ = "0.1.0"
