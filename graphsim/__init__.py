"""graphsim: a local, stateful stand-in for the part of Microsoft Graph v1.0 that PIM Warden uses.

A test and development tool, never deployed; the product package (`shared`) never imports it.
"""
