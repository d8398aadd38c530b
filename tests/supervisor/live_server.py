"""The real app under the appliance's own uvicorn server, in a thread, on free ports of 127.0.0.1."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp

from appliance.supervisor.server import ApplianceServer, Listener, ServerOptions, config, tcp_listener


@contextmanager
def serving(app: ASGIApp, options: ServerOptions = ServerOptions(), tls: ssl.SSLContext | None = None,
            extra: list[Listener] | None = None) -> Iterator[ApplianceServer]:
    """Yields the running server; `server.listeners[0]` is plain HTTP, a second one TLS if `tls`."""
    listeners = [Listener(tcp_listener("127.0.0.1", 0))]
    if tls is not None:
        listeners.append(Listener(tcp_listener("127.0.0.1", 0), tls=True))
    server = ApplianceServer(config(app, options), listeners + list(extra or []), tls)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def port(server: ApplianceServer, index: int = 0) -> int:
    return server.listeners[index].sock.getsockname()[1]
