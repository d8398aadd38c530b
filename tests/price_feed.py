"""A price feed on 127.0.0.1 for tests (the supervisor's and the browser's): it answers every GET
with what the test set last, from a thread, and shuts itself down after `lifetime_s` should a
test never stop it."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class PriceFeed:
    def __init__(self, lifetime_s: float = 300.0) -> None:
        self.status = 200
        self.body = b"[]"
        self.delay_s = 0.0  # before answering: a slow server
        self.requests = 0
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                feed.requests += 1
                time.sleep(feed.delay_s)
                with contextlib.suppress(ConnectionError):  # a client that gave up waiting
                    self.send_response(feed.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(feed.body)))
                    self.end_headers()
                    self.wfile.write(feed.body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/prices.json"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="price-feed", daemon=True)
        self._deadline = threading.Timer(lifetime_s, self.server.shutdown)
        self._deadline.daemon = True

    def serve(self, payload: Any, status: int = 200) -> None:
        """JSON of `payload` (NaN stays NaN, as a sloppy feed would send it), or these bytes."""
        self.body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.status = status

    def __enter__(self) -> PriceFeed:
        self._thread.start()
        self._deadline.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._deadline.cancel()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
