"""uvicorn as the appliance runs it: which proxies it trusts (none unless told), how long it
waits for idle and half-sent requests, and every socket it listens on, plain or TLS."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import sys
from dataclasses import dataclass

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)
KEEP_ALIVE_S = 5  # an idle keep-alive connection is closed after this
HEADER_TIMEOUT_S = 10.0  # a request's head must have arrived this long after it began
TLS_HANDSHAKE_S = 10.0
# uvicorn counts open connections here, not only running requests: high enough that a few
# hundred idle sockets do not lock the owner out, far below LimitNOFILE=8192.
LIMIT_CONCURRENCY = 1000


@dataclass
class Listener:
    sock: socket.socket
    tls: bool = False


@dataclass(frozen=True)
class ServerOptions:
    forwarded_allow_ips: str | None = None  # None: X-Forwarded-For and friends are trusted from nobody


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for the request head: uvicorn itself waits
    for ever on a connection that sends nothing, or half a request line, or headers a byte a
    minute. Closed quietly: a flood of such connections must not flood the log."""

    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # a new request begins (after a keep-alive pause)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._cancel_head_timer()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def config(app: ASGIApp, options: ServerOptions = ServerOptions()) -> uvicorn.Config:
    trusted = options.forwarded_allow_ips
    return uvicorn.Config(app, log_level="info", lifespan="on", http=GuardedH11Protocol,
                          proxy_headers=trusted is not None, forwarded_allow_ips=trusted or "",
                          timeout_keep_alive=KEEP_ALIVE_S, limit_concurrency=LIMIT_CONCURRENCY,
                          server_header=False)


SD_LISTEN_FDS_START = 3
TLS_NAMES = ("https",)  # FileDescriptorName= of the sockets that speak TLS (evse-https.socket)


def inherited_listeners(environ: dict[str, str] | None = None) -> list[Listener]:
    """Listening sockets handed over by systemd (LISTEN_FDS, LISTEN_FDNAMES; sd_listen_fds(3)):
    port 80 and 443 bound by systemd, so the supervisor needs no privilege and sees every
    client's real address. The variables are removed so no child inherits them."""
    env = os.environ if environ is None else environ
    if env.get("LISTEN_PID") != str(os.getpid()) or not env.get("LISTEN_FDS", "").isdigit():
        return []
    count = int(env["LISTEN_FDS"])
    names = env.get("LISTEN_FDNAMES", "").split(":")
    for key in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        env.pop(key, None)
    listeners = []
    for n in range(count):
        fd = SD_LISTEN_FDS_START + n
        os.set_inheritable(fd, False)
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        listeners.append(Listener(sock, tls=n < len(names) and names[n] in TLS_NAMES))
    return listeners


def tcp_listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class ApplianceServer(uvicorn.Server):
    """One uvicorn server over several listening sockets, each plain or TLS (uvicorn's own takes
    one TLS setting for all of them)."""

    def __init__(self, config: uvicorn.Config, listeners: list[Listener],
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(config)
        self.listeners = listeners
        self.tls = tls

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(3)
        config = self.config

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            return config.http_protocol_class(config=config, server_state=self.server_state,  # type: ignore[call-arg]
                                              app_state=self.lifespan.state, _loop=_loop)

        loop = asyncio.get_running_loop()
        self.servers = []
        for listener in self.listeners:
            tls = self.tls if listener.tls else None
            if listener.tls and tls is None:
                raise ValueError("a TLS listener needs a certificate")
            server = await loop.create_server(create_protocol, sock=listener.sock, ssl=tls, backlog=config.backlog,
                                              ssl_handshake_timeout=TLS_HANDSHAKE_S if tls else None)
            self.servers.append(server)
            name = listener.sock.getsockname()
            log.info("serving %s on %s port %s", "https" if tls else "http", name[0], name[1])
        self.started = True
