"""Persistence for the auth rules (which live in appliance.supervisor.auth): the admin password
hash, API tokens and browser sessions. Only what the caller gives is stored: for tokens and
session ids that is a hash, so a copied database file opens nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

import appliance.supervisor.storage.validate as validate
from appliance.errors import InvalidInput, NotFound
from appliance.supervisor.storage.database import Guarded


@dataclass(frozen=True)
class ApiToken:
    id: str
    name: str
    scopes: list[str]
    token_hash: str
    created_t: float
    last_used_t: float | None
    revoked: bool


@dataclass(frozen=True)
class BrowserSession:
    id_hash: str
    csrf_token: str
    created_t: float
    expires_t: float


def _scopes(value: Any) -> str:
    if not isinstance(value, (list, tuple)) or not value:
        raise InvalidInput("scopes must be a non-empty list of names")
    return json.dumps([validate.identifier("scope", s) for s in value])


def _token(row: dict[str, Any]) -> ApiToken:
    return ApiToken(**{**row, "scopes": json.loads(row["scopes"]), "revoked": bool(row["revoked"])})


def _hash(name: str, value: Any) -> str:
    return validate.text(name, value, 500)


class Auth:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    # -- the admin password (one row, set at first run, replaced on change)
    def admin_password_hash(self) -> str | None:
        with self._g.read() as db:
            row = db.execute("SELECT password_hash FROM admin WHERE id = 1").fetchone()
        return None if row is None else row[0]

    def set_admin_password_hash(self, password_hash: Any, t: Any) -> None:
        row = {"id": 1, "password_hash": _hash("password_hash", password_hash), "set_t": validate.timestamp("t", t)}
        with self._g.write() as db:
            db.table("admin").upsert(row, pk="id")

    def reset_admin(self, password_hash: Any, t: Any) -> tuple[int, int]:
        """The owner's recovery path: a new password, and every browser session and API token
        ended with it, in one transaction (whoever held them may be who the owner locks out).
        Returns (sessions ended, tokens revoked)."""
        row = {"id": 1, "password_hash": _hash("password_hash", password_hash), "set_t": validate.timestamp("t", t)}
        with self._g.write() as db:
            db.table("admin").upsert(row, pk="id")
            sessions = db.execute("DELETE FROM browser_sessions").rowcount
            revoked = db.execute("UPDATE api_tokens SET revoked = 1 WHERE revoked = 0").rowcount
        return sessions, revoked

    # -- API tokens
    def create_token(self, token_id: Any, name: Any, scopes: Any, token_hash: Any, t: Any) -> None:
        row = {"id": validate.text("token id", token_id, 64), "name": validate.text("name", name, 100),
               "scopes": _scopes(scopes), "token_hash": _hash("token_hash", token_hash),
               "created_t": validate.timestamp("t", t)}
        with self._g.write() as db:
            if db.execute("SELECT 1 FROM api_tokens WHERE id = ?", [row["id"]]).fetchone():
                raise InvalidInput(f"a token with id {row['id']} exists already")
            db.table("api_tokens").insert(row)

    def token(self, token_id: Any) -> ApiToken | None:
        token_id = validate.text("token id", token_id, 64)
        with self._g.read() as db:
            return self._one(db, "id = ?", token_id)

    def token_by_hash(self, token_hash: Any) -> ApiToken | None:
        """The token with this hash, revoked or not (the caller decides what revoked means)."""
        token_hash = _hash("token_hash", token_hash)
        with self._g.read() as db:
            return self._one(db, "token_hash = ?", token_hash)

    def tokens(self, include_revoked: bool = False) -> list[ApiToken]:
        where = None if validate.flag("include_revoked", include_revoked) else "revoked = 0"
        with self._g.read() as db:
            return [_token(r) for r in db.table("api_tokens").rows_where(where, order_by="created_t, id")]

    def touch_token(self, token_id: Any, t: Any) -> None:
        """Note a use (shown in the token list as "last used")."""
        self._update_token(token_id, {"last_used_t": validate.timestamp("t", t)})

    def revoke_token(self, token_id: Any) -> None:
        self._update_token(token_id, {"revoked": 1})

    def _update_token(self, token_id: Any, values: dict[str, Any]) -> None:
        token_id = validate.text("token id", token_id, 64)
        with self._g.write() as db:
            if db.execute("SELECT 1 FROM api_tokens WHERE id = ?", [token_id]).fetchone() is None:
                raise NotFound(f"no token {token_id}")
            db.table("api_tokens").update(token_id, values)

    @staticmethod
    def _one(db: Database, where: str, value: str) -> ApiToken | None:
        row = next(db.table("api_tokens").rows_where(where, [value]), None)
        return None if row is None else _token(row)

    # -- browser sessions (the id is a hash of the cookie's value)
    def create_browser_session(self, id_hash: Any, csrf_token: Any, created_t: Any, expires_t: Any) -> None:
        created, expires = validate.time_range(created_t, expires_t)
        row = {"id_hash": _hash("id_hash", id_hash), "csrf_token": validate.text("csrf_token", csrf_token, 500),
               "created_t": created, "expires_t": expires}
        with self._g.write() as db:
            db.table("browser_sessions").insert(row, replace=True)

    def browser_session(self, id_hash: Any, now: Any) -> BrowserSession | None:
        """The session if it exists and has not expired at `now`."""
        id_hash, now = _hash("id_hash", id_hash), validate.timestamp("now", now)
        with self._g.read() as db:
            row = next(db.table("browser_sessions").rows_where("id_hash = ? AND expires_t > ?", [id_hash, now]), None)
        return None if row is None else BrowserSession(**row)

    def delete_browser_session(self, id_hash: Any) -> None:
        id_hash = _hash("id_hash", id_hash)
        with self._g.write() as db:
            db.execute("DELETE FROM browser_sessions WHERE id_hash = ?", [id_hash])

    def delete_browser_sessions(self, keep: Any = None) -> int:
        """End every browser session but `keep` (an id hash, or None for all); how many ended."""
        with self._g.write() as db:
            if keep is None:
                return db.execute("DELETE FROM browser_sessions").rowcount
            return db.execute("DELETE FROM browser_sessions WHERE id_hash != ?", [_hash("keep", keep)]).rowcount

    def purge_browser_sessions(self, now: Any) -> int:
        now = validate.timestamp("now", now)
        with self._g.write() as db:
            return db.execute("DELETE FROM browser_sessions WHERE expires_t <= ?", [now]).rowcount
