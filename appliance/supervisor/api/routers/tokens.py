"""API tokens for devices. The secret is shown once, at creation; lists never show it and the
database only holds its hash. Revoked tokens stop working at once."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Response

from appliance.supervisor.api.deps import Admin, Auth, Ctx, audit
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.schemas import TokenCreate, TokenCreated, TokenInfo
from appliance.supervisor.auth.service import scope_of
from appliance.supervisor.storage import ApiToken

router = APIRouter(prefix="/tokens", tags=["tokens"])


def _info(token: ApiToken) -> TokenInfo:
    return TokenInfo(id=token.id, name=token.name, scope=scope_of(token), created=token.created_t,
                     last_used=token.last_used_t)


@router.get("", response_model=list[TokenInfo], summary="Active tokens (never their secrets)")
async def tokens(auth: Auth, _: Admin) -> list[TokenInfo]:
    return [_info(t) for t in auth.tokens()]


@router.post("", status_code=201, response_model=TokenCreated, summary="Create a token; the answer holds its only copy")
async def create_token(body: TokenCreate, ctx: Ctx, auth: Auth, who: Admin) -> TokenCreated:
    if any(t.name == body.name for t in auth.tokens()):
        raise HTTPException(status_code=409, detail=f"a token named {body.name!r} exists already")
    with user_input():
        secret, token = auth.create_token(body.name, body.scope)
    audit(ctx, who, "token.create", f"token/{token.id}", {"name": body.name, "scope": body.scope})
    return TokenCreated(**_info(token).model_dump(), token=secret)


@router.delete("/{token_id}", status_code=204, responses={404: {"description": "no such token"}})
async def revoke_token(ctx: Ctx, auth: Auth, who: Admin,
                       token_id: str = Path(min_length=1, max_length=64)) -> Response:
    with user_input():
        auth.revoke(token_id)
    audit(ctx, who, "token.revoke", f"token/{token_id}")
    return Response(status_code=204)
