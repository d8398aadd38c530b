"""Who may do what: the admin password, API tokens, browser sessions and login backoff.

Pure functions and small classes with no web framework in them, so the rules can be tested
(and reused by a CLI) without an HTTP server.
"""
