"""FastAPI dependencies: the app's context and who is asking.

Rules: a bearer token or the session cookie identifies the caller (a bad bearer is a 401,
never a silent fall-back to the cookie); no identity is a 401 unless the request is a read and
the site allows reads without login; a missing scope is a 403; a cookie-authenticated change
must carry the session's CSRF token in X-CSRF-Token (403 otherwise). Tokens need no CSRF
token: a browser never attaches them on its own.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from appliance.supervisor.api import control
from appliance.supervisor.api.live_feed import LiveFeed
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.auth.backoff import LoginLimits, OneAtATime
from appliance.supervisor.auth.service import ANONYMOUS, AuthService, Principal
from appliance.supervisor.auth.tokens import Scope, allows
from appliance.supervisor.mqtt.bridge import MqttBridge
from appliance.supervisor.price_provider import PriceProvider

SESSION_COOKIE = "evse_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared for OpenAPI (and the /docs "Authorize" button); the checks below do the work.
_bearer = HTTPBearer(auto_error=False, description="API token: evse_<id>_<secret>")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="browser session (POST /auth/login)")


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def auth_service(request: Request) -> AuthService:
    return context(request).auth


def live_feed(request: Request) -> LiveFeed:
    return context(request).live


def login_limits(request: Request) -> LoginLimits:
    return context(request).login_limits


def hashing(request: Request) -> OneAtATime:
    return context(request).hashing


def price_provider(request: Request) -> PriceProvider:
    price_provider: PriceProvider = request.app.state.price_provider
    return price_provider


def mqtt_bridge(request: Request) -> MqttBridge:
    bridge: MqttBridge = request.app.state.mqtt
    return bridge


Ctx = Annotated[AppContext, Depends(context)]
Auth = Annotated[AuthService, Depends(auth_service)]
Live = Annotated[LiveFeed, Depends(live_feed)]
Limits = Annotated[LoginLimits, Depends(login_limits)]
Hashing = Annotated[OneAtATime, Depends(hashing)]
Provider = Annotated[PriceProvider, Depends(price_provider)]
Mqtt = Annotated[MqttBridge, Depends(mqtt_bridge)]


def unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def identify(auth: AuthService, authorization: str | None, cookie: str | None) -> Principal | None:
    """The caller behind these credentials; None when there are none (raises 401 for bad ones)."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("use 'Authorization: Bearer <token>'")
        principal = auth.token_principal(token.strip())
        if principal is None:
            raise unauthorized("unknown or revoked API token")
        return principal
    return auth.session(cookie) if cookie else None


async def current_principal(request: Request, auth: Auth,
                            _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                            _c: Annotated[str | None, Depends(_cookie)]) -> Principal | None:
    return identify(auth, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE))


Caller = Annotated[Principal | None, Depends(current_principal)]


def require(scope: Scope) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(request: Request, ctx: Ctx, principal: Caller) -> Principal:
        return authorize(principal, scope, request.method, request.headers.get(CSRF_HEADER),
                         ctx.core.settings.read_only_without_login)

    dependency.__name__ = f"require_{scope}"
    return dependency


def authorize(principal: Principal | None, scope: Scope, method: str, csrf: str | None,
              read_only_without_login: bool) -> Principal:
    if principal is None:
        if scope == "read" and method in SAFE_METHODS and read_only_without_login:
            return ANONYMOUS
        raise unauthorized("log in, or send an API token as 'Authorization: Bearer <token>'")
    if principal.scope is None or not allows(principal.scope, scope):
        raise HTTPException(status_code=403, detail=f"this needs the '{scope}' scope; "
                                                    f"{principal.actor} has '{principal.scope}'")
    if principal.kind == "user" and method not in SAFE_METHODS:
        expected = (principal.csrf_token or "").encode()
        if not csrf or not expected or not hmac.compare_digest(csrf.encode(), expected):
            raise HTTPException(status_code=403, detail=f"missing or wrong {CSRF_HEADER} header "
                                                        "(GET /api/v1/auth/me gives the session's token)")
    return principal


Reader = Annotated[Principal, Depends(require("read"))]
Controller = Annotated[Principal, Depends(require("control"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def audit(ctx: AppContext, who: Principal, action: str, target: str | None = None, details: Any = None) -> None:
    """The audit line of a REST caller's action."""
    control.audit(ctx, who.actor, action, target, details)
