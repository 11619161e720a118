"""The enforcement engine: discover high-value apps, observe them, plan, apply, record."""
