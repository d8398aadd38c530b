"""The web app's outer guard: which Host it answers to (DNS rebinding).

A page on some other site can make a browser on the owner's LAN talk to the appliance by
pointing its own DNS name at the appliance's address (DNS rebinding): the browser then treats
the appliance as that site's origin. The one thing such a request cannot fake is the Host
header, which names the attacker's domain. So the supervisor answers only to its own names and
addresses — localhost, 127.0.0.1, [::1], its hostname and hostname.local, the addresses of its
own interfaces — and to names the owner adds (`--allowed-host`, EVSE_ALLOWED_HOSTS); anything
else is a 421 Misdirected Request, on every route and on the WebSocket too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from appliance.supervisor.api.errors import SafeJSONResponse

log = logging.getLogger(__name__)
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
REFRESH_S = 30.0  # the machine's own names and addresses are read again this often...
MISS_REFRESH_S = 2.0  # ...or, at most this often, when a Host is not among them (DHCP gave a new one)


def normalize_host(value: str) -> str | None:
    """The host part of a Host header (or of a configured name), lowercase, without port or
    brackets or a trailing dot; None when it is not a host at all."""
    value = value.strip().lower()
    if not value:
        return None
    if value.startswith("["):  # [v6] or [v6]:port
        end = value.find("]")
        if end < 0 or (value[end + 1:] and not value[end + 1:].startswith(":")):
            return None
        host = value[1:end]
        try:
            return ipaddress.IPv6Address(host.split("%")[0]).compressed
        except ValueError:
            return None
    if value.count(":") > 1:  # a bare IPv6 literal (a configured name; not valid in a Host header)
        try:
            return ipaddress.IPv6Address(value.split("%")[0]).compressed
        except ValueError:
            return None
    host, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    host = host.rstrip(".")
    if not host or any(c.isspace() or c in "/\\@?#" for c in host):
        return None
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


class AllowedHosts:
    """The names and addresses this machine answers to; its own are read from the system."""

    def __init__(self, extra: Iterable[str] = (), *, own: Callable[[], set[str]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.extra = frozenset(h for h in (normalize_host(e) for e in extra) if h)
        self._own = own or own_names
        self._clock = clock
        self._lock = threading.Lock()
        self._known: frozenset[str] = frozenset()
        self._read_at = float("-inf")

    def names(self) -> frozenset[str]:
        """Everything allowed right now (for messages and tests)."""
        self._refresh(REFRESH_S)
        return self._known | self.extra | frozenset(LOCAL_NAMES)

    def allows(self, host_header: str | None) -> bool:
        host = normalize_host(host_header or "")
        if host is None:
            return False
        if host in LOCAL_NAMES or host in self.extra:
            return True
        self._refresh(REFRESH_S)
        if host in self._known:
            return True
        self._refresh(MISS_REFRESH_S)  # an address just given by DHCP; a flood costs one read every 2 s
        return host in self._known

    def _refresh(self, max_age_s: float) -> None:
        now = self._clock()
        if now - self._read_at < max_age_s:
            return
        with self._lock:
            if now - self._read_at < max_age_s:
                return
            self._read_at = now
            try:
                self._known = frozenset(h for h in (normalize_host(n) for n in self._own()) if h)
            except OSError as exc:
                log.warning("cannot read this machine's names and addresses: %s", exc)


def own_names() -> set[str]:
    """The hostname (short and long), hostname.local, and every address of every interface."""
    names = set(LOCAL_NAMES)
    hostname = socket.gethostname().lower().rstrip(".")
    if hostname:
        short = hostname.split(".")[0]
        names |= {hostname, short, f"{short}.local"}
    names |= interface_addresses()
    return names


class _SockAddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("data", ctypes.c_ubyte * 26)]


class _IfAddrs(ctypes.Structure):
    pass


_IfAddrs._fields_ = [("next", ctypes.POINTER(_IfAddrs)), ("name", ctypes.c_char_p), ("flags", ctypes.c_uint),
                     ("addr", ctypes.POINTER(_SockAddr)), ("netmask", ctypes.POINTER(_SockAddr)),
                     ("ifu", ctypes.POINTER(_SockAddr)), ("data", ctypes.c_void_p)]


def interface_addresses() -> set[str]:
    """The IPv4 and IPv6 addresses of all interfaces (getifaddrs(3)); empty where there is no libc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return set()
    head = ctypes.POINTER(_IfAddrs)()
    if libc.getifaddrs(ctypes.byref(head)) != 0:
        raise OSError(ctypes.get_errno(), "getifaddrs failed")
    found: set[str] = set()
    try:
        entry = head
        while entry:
            addr = entry.contents.addr
            if addr:
                family, data = addr.contents.family, bytes(addr.contents.data)
                if family == socket.AF_INET:
                    found.add(str(ipaddress.IPv4Address(data[2:6])))
                elif family == socket.AF_INET6:
                    found.add(ipaddress.IPv6Address(data[6:22]).compressed)
            entry = entry.contents.next
    finally:
        libc.freeifaddrs(head)
    return found


class HostGuard:
    """ASGI middleware: 421 for a request (or WebSocket handshake) whose Host is not ours."""

    def __init__(self, app: ASGIApp, allowed: AllowedHosts) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [v for k, v in scope["headers"] if k == b"host"]
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else None
        if self.allowed.allows(host):
            await self.app(scope, receive, send)
            return
        shown = "no Host header" if host is None else f"the host name {host[:100]!r}"
        detail = (f"this appliance does not answer to {shown}: use its own name or address "
                  "(or add the name with --allowed-host / EVSE_ALLOWED_HOSTS)")
        response = SafeJSONResponse({"detail": detail}, status_code=421)
        if scope["type"] == "http":
            await response(scope, receive, send)
        elif "websocket.http.response" in scope.get("extensions", {}):
            await receive()  # websocket.connect; Starlette sends the answer as the handshake's denial
            await response(scope, receive, send)
        else:
            await receive()
            await send({"type": "websocket.close", "code": 1008, "reason": "wrong Host"})


class PlainHttpGuard:
    """With HTTPS on and `--http local`: plain HTTP only from this machine. A browser on the LAN
    is sent to the same page over HTTPS (308); any other plain request from the LAN is a 403."""

    def __init__(self, app: ASGIApp, https_port: int | None) -> None:
        self.app = app
        self.https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") or ("", 0)
        if scope["type"] not in ("http", "websocket") or scope.get("scheme") in ("https", "wss") \
                or is_loopback(client[0]) or self.https_port is None:
            await self.app(scope, receive, send)
            return
        host = normalize_host(dict(scope["headers"]).get(b"host", b"").decode("latin-1")) or "localhost"
        shown = f"[{host}]" if ":" in host else host
        port = "" if self.https_port == 443 else f":{self.https_port}"
        query = scope.get("query_string", b"").decode("latin-1")
        location = f"https://{shown}{port}{scope['path']}" + (f"?{query}" if query else "")
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            response = SafeJSONResponse({"detail": f"use HTTPS: {location}"}, status_code=308,
                                        headers={"Location": location})
        else:
            response = SafeJSONResponse({"detail": f"plain HTTP is for this machine only; use HTTPS: {location}"},
                                        status_code=403)
        if scope["type"] == "websocket":
            await receive()
        await response(scope, receive, send)


def is_loopback(address: str) -> bool:
    """The peer is this machine (the Host check keeps a rebinding page out of this case)."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
