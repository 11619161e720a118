"""Local stack for tests, demo and bench: Azurite (later graphsim) as managed subprocesses. Not deployed."""
