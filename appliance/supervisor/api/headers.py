"""Security headers on every answer: the UI runs only its own scripts and styles, talks only to
its own origin, is never framed (clickjacking), and browsers neither sniff types nor send
the appliance's URLs elsewhere as a Referer."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = ("default-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
CSP = f"{_COMMON}; style-src 'self'"
# Swagger UI (React) sets style attributes in its markup: only its page may have inline styles.
DOCS_CSP = f"{_COMMON}; style-src 'self' 'unsafe-inline'"
DOCS_PREFIX = "/docs"
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"] == DOCS_PREFIX or scope["path"].startswith(DOCS_PREFIX + "/") else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
