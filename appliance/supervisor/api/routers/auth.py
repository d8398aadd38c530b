"""Browser login for the appliance's owner: first-run password, login, logout, password change.

The session lives in an HttpOnly, SameSite=Strict cookie (Secure over https); every change
made with it must echo the session's CSRF token in the X-CSRF-Token header.
"""

from __future__ import annotations

import logging
import math

from fastapi import APIRouter, HTTPException, Request, Response

from appliance.supervisor.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Admin,
    Auth,
    Caller,
    Ctx,
    Hashing,
    Limits,
    audit,
    authorize,
)
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.guard import is_loopback
from appliance.supervisor.api.schemas import LoginResult, Me, Password, PasswordChange, Setup
from appliance.supervisor.auth.service import ADMIN, SESSION_TTL_S, AuthService, PasswordAlreadySet, Principal
from appliance.system import setup_code

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"])
NEEDS_CODE = ("first-run setup from the network needs the setup code: the charger prints it when it starts, keeps it "
              "in setup-code in its data directory, and writes it into evse-firstboot.txt on the SD card's boot "
              "partition")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _loopback(request: Request) -> bool:
    return is_loopback(_client(request))


def _open_session(auth: AuthService, request: Request, response: Response) -> LoginResult:
    cookie, session = auth.start_session()
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(SESSION_TTL_S), path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return LoginResult(csrf_token=session.csrf_token, expires=session.expires_t)


def _attempt(limits: Limits, client: str) -> None:
    """429 while this client or everyone must wait; else the attempt counts (before any hashing)."""
    wait = limits.retry_after(client)
    if wait > 0:
        seconds = math.ceil(wait)
        raise HTTPException(status_code=429, detail=f"too many wrong passwords; try again in {seconds} s",
                            headers={"Retry-After": str(seconds)})
    limits.attempt(client)


def _check_setup_code(ctx: Ctx, limits: Limits, request: Request, given: str | None) -> None:
    """From the LAN, the one-time code; a wrong one counts like a wrong password."""
    client = _client(request)
    _attempt(limits, client)
    expected = setup_code.read_code(ctx.data_dir)
    if expected is None:  # its file went missing: a new one, shown where the owner looks
        expected = setup_code.ensure_code(ctx.data_dir)
        log.warning("first-run setup code: %s", setup_code.shown(expected))
    if not setup_code.matches(expected, given):
        ctx.storage.audit.add(ctx.clock(), f"client {client}", "auth.setup_refused", "admin")
        raise HTTPException(status_code=403, detail=("wrong setup code; " if given else "") + NEEDS_CODE)


@router.post("/setup", response_model=LoginResult,
             responses={403: {"description": "the setup code is missing or wrong"},
                        409: {"description": "the password is set already"}},
             summary="First run: set the admin password (only while none is set; from the network with the "
                     "setup code); logs in")
async def setup(body: Setup, request: Request, response: Response, ctx: Ctx, auth: Auth, limits: Limits,
                hashing: Hashing) -> LoginResult:
    if auth.password_set():
        raise HTTPException(status_code=409, detail=str(PasswordAlreadySet.MESSAGE))
    if not _loopback(request):
        _check_setup_code(ctx, limits, request, body.setup_code)
        limits.succeeded(_client(request))
    try:
        with user_input():
            await hashing.run(auth.setup, body.password)
    except PasswordAlreadySet as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    setup_code.discard_code(ctx.data_dir)
    audit(ctx, Principal("user", ADMIN, "admin"), "auth.setup", "admin", {"client": _client(request)})
    return _open_session(auth, request, response)


@router.post("/login", response_model=LoginResult, summary="Log in with the admin password; sets the session cookie")
async def login(body: Password, request: Request, response: Response, ctx: Ctx, auth: Auth,
                limits: Limits, hashing: Hashing) -> LoginResult:
    client = _client(request)
    if not auth.password_set():
        raise HTTPException(status_code=409, detail="no password is set yet: POST /api/v1/auth/setup first")
    _attempt(limits, client)
    if not await hashing.run(auth.check_password, body.password):
        ctx.storage.audit.add(ctx.clock(), f"client {client}", "auth.login_failed", "admin")
        raise HTTPException(status_code=401, detail="wrong password")
    limits.succeeded(client)
    audit(ctx, Principal("user", ADMIN, "admin"), "auth.login", "admin", {"client": client})
    return _open_session(auth, request, response)


@router.post("/logout", status_code=204, summary="End the browser session (needs its CSRF token)")
async def logout(request: Request, ctx: Ctx, auth: Auth, caller: Caller) -> Response:
    if caller is not None and caller.kind == "user":
        authorize(caller, "read", request.method, request.headers.get(CSRF_HEADER), False)
        auth.end_session(request.cookies.get(SESSION_COOKIE, ""))
        audit(ctx, caller, "auth.logout", "admin")
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=Me, summary="Who am I; also tells a UI whether first-run setup is due")
async def me(request: Request, ctx: Ctx, auth: Auth, caller: Caller) -> Me:
    read_only = ctx.core.settings.read_only_without_login
    if caller is None:
        password_set = auth.password_set()
        return Me(authenticated=False, kind="anonymous" if read_only else None, name=None,
                  scope="read" if read_only else None, password_set=password_set,
                  read_only_without_login=read_only, setup_code_required=not password_set and not _loopback(request))
    return Me(authenticated=True, kind=caller.kind, name=caller.name, scope=caller.scope, csrf_token=caller.csrf_token,
              password_set=auth.password_set(), read_only_without_login=read_only)


@router.post("/password", status_code=204,
             summary="Change the admin password; ends every other browser session (and their WebSockets)")
async def change_password(body: PasswordChange, request: Request, ctx: Ctx, auth: Auth, limits: Limits,
                          hashing: Hashing, who: Admin) -> Response:
    client = _client(request)
    _attempt(limits, client)
    keep = request.cookies.get(SESSION_COOKIE) if who.kind == "user" else None
    with user_input():
        changed = await hashing.run(auth.change_password, body.current, body.new, keep)
    if not changed:
        raise HTTPException(status_code=403, detail="the current password is wrong")
    limits.succeeded(client)
    audit(ctx, who, "auth.password_change", "admin")
    return Response(status_code=204)
