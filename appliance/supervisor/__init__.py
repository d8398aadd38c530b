"""The supervisor: load sharing, charge modes, sessions, storage, REST API, WebSocket and web UI.

It never touches hardware: everything it knows and does goes through the pilot socket.
"""
