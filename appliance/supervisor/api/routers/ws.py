"""WebSocket /api/v1/ws: a full snapshot on connect, then state and fault events as they
happen and a snapshot every second. Same auth as the REST reads; browsers must come from
this appliance's own origin (the cookie alone would let any LAN page on another port in).
The credential is checked again every RECHECK_S while the socket is open: a revoked token, a
logged-out or expired session, or one ended by a password change closes it with 1008."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from appliance.supervisor.api.deps import SESSION_COOKIE, identify
from appliance.supervisor.api.hub import Subscriber, encode
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.auth.service import ANONYMOUS, Principal

router = APIRouter(tags=["live"])
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
CLOSE_WAIT_S = 10.0
RECHECK_S = 2.0


def _same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


def _principal(websocket: WebSocket) -> Principal | None:
    ctx: AppContext = websocket.app.state.ctx
    try:
        principal = identify(ctx.auth, websocket.headers.get("authorization"), websocket.cookies.get(SESSION_COOKIE))
    except HTTPException:
        return None
    if principal is None and ctx.core.settings.read_only_without_login:
        return ANONYMOUS
    return principal


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    principal = _principal(websocket) if _same_origin(websocket) else None
    if principal is None:
        await websocket.close(code=POLICY_VIOLATION, reason="log in or send an API token")
        return
    ctx: AppContext = websocket.app.state.ctx
    hub, feed = ctx.hub, ctx.live
    await websocket.accept()
    subscriber = hub.subscribe()  # before the snapshot, so nothing falls between the two
    tasks: list[asyncio.Task[object]] = []
    watch: asyncio.Task[None] | None = None
    try:
        await websocket.send_text(encode(feed.snapshot()))
        watch = asyncio.create_task(_watch(websocket, principal))
        tasks = [asyncio.create_task(_pump(websocket, subscriber)), asyncio.create_task(_drain(websocket)),
                 asyncio.create_task(subscriber.overflowed.wait()), watch]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away mid-send
    finally:
        hub.unsubscribe(subscriber)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
    if subscriber.overflowed.is_set():
        await _close(websocket, TRY_AGAIN_LATER, "too slow: reconnect for a fresh snapshot")
    elif watch is not None and watch.done() and not watch.cancelled():
        await _close(websocket, POLICY_VIOLATION, "the login or API token of this connection has ended")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """The sender is stopped first, so the close frame is the next thing on the wire; a client
    that reads nothing at all gets CLOSE_WAIT_S to take it before we let go."""
    with contextlib.suppress(TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
        async with asyncio.timeout(CLOSE_WAIT_S):
            await websocket.close(code=code, reason=reason)


async def _watch(websocket: WebSocket, first: Principal) -> None:
    """Returns once the credential the socket was opened with no longer admits it (for a socket
    opened without one: once reads without login are switched off)."""
    while True:
        await asyncio.sleep(RECHECK_S)
        now = await run_in_threadpool(_principal, websocket)
        if now is None or now.kind != first.kind:
            return


async def _pump(websocket: WebSocket, subscriber: Subscriber) -> None:
    while True:
        await websocket.send_text(await subscriber.queue.get())


async def _drain(websocket: WebSocket) -> None:
    """Reads (and ignores) what the client sends, to notice when it leaves."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
