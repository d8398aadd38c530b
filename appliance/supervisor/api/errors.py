"""Turning failures into answers: bad input is a 4xx with a message a user can act on; only a
genuine bug becomes a 500, logged with its traceback and answered with a generic body."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appliance.errors import InvalidInput, NotFound
from appliance.supervisor.api.control import Rejected
from appliance.supervisor.api.hub import encode

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


class SafeJSONResponse(JSONResponse):
    """JSON a browser can parse even when a meter reported NaN (it becomes null)."""

    def render(self, content: Any) -> bytes:
        return encode(content).encode("utf-8")


def unprocessable(exc: ValidationError | InvalidInput) -> HTTPException:
    """A validation failure from the core or storage, in the shape FastAPI uses for request errors."""
    if isinstance(exc, Rejected):
        detail: Any = [{"loc": ["body", exc.field], "type": "value_error", "msg": str(exc)}]
    elif isinstance(exc, ValidationError):
        detail = jsonable_encoder(exc.errors(include_url=False, include_context=False, include_input=False))
    else:
        detail = str(exc)
    return HTTPException(status_code=422, detail=detail)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 body, but safe when the rejected input was NaN (it echoes the input)."""
    details = exc.errors() if isinstance(exc, RequestValidationError) else [str(exc)]
    return SafeJSONResponse({"detail": jsonable_encoder(details)}, status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return SafeJSONResponse({"detail": "internal error; the details are in the supervisor's log"}, status_code=500)


def install(app: FastAPI, unlimited: frozenset[str] = frozenset()) -> None:
    """`unlimited`: paths whose handler enforces its own size limit (the update upload)."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(BodyLimit, unlimited=unlimited)


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {MAX_BODY_BYTES} bytes")


class BodyLimit:
    """Refuse oversized bodies before they fill a Pi's memory, declared or chunked."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, unlimited: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.unlimited = unlimited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.unlimited:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            status, detail = (413, BodyTooLarge().detail) if declared.isdigit() else (400, "bad Content-Length")
            await SafeJSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


@contextmanager
def user_input() -> Iterator[None]:
    """Storage and core checks of what the caller sent: NotFound -> 404, InvalidInput -> 422, and so
    does a pydantic ValidationError (a model validated from the request). Any other error is a bug
    and stays one: a 500, logged with its traceback."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except (InvalidInput, ValidationError) as exc:
        raise unprocessable(exc) from None
