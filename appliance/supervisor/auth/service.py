"""The auth rules on top of the storage's auth records: first-run password, browser sessions
with a CSRF token, API tokens with scopes.

One admin account (the appliance's owner) logs in with the password; devices use tokens.
Secrets never reach the database: the password as a scrypt hash (the same scheme the first-boot
setup uses to hand a password over), cookies and tokens as SHA-256.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from appliance.errors import InvalidInput, Refused
from appliance.supervisor.auth import tokens
from appliance.supervisor.auth.tokens import SCOPES, Scope
from appliance.supervisor.storage import ApiToken, BrowserSession
from appliance.supervisor.storage.auth import Auth as AuthRecords
from appliance.system.passwords import hash_password, verify_password

ADMIN = "admin"
PASSWORD_MIN = 10  # as the first-boot file asks
PASSWORD_MAX = 256
SESSION_TTL_S = 7 * 86400.0
TOUCH_EVERY_S = 60.0  # "last used" is for humans; a write per request would be waste


class PasswordAlreadySet(Refused):
    """First-run setup after the password exists: only a logged-in admin may change it."""

    MESSAGE = "the admin password is set already; log in to change it"


@dataclass(frozen=True)
class Principal:
    """Who is asking: the admin in a browser, a device's token, or nobody (read-only mode)."""

    kind: Literal["user", "token", "anonymous"]
    name: str
    scope: Scope | None
    csrf_token: str | None = None
    token_id: str | None = None

    @property
    def actor(self) -> str:
        """The name written to the audit log."""
        return f"token:{self.name}" if self.kind == "token" else self.name


ANONYMOUS = Principal("anonymous", "anonymous", "read")


class AuthService:
    def __init__(self, records: AuthRecords, clock: Callable[[], float]) -> None:
        self.records = records
        self.clock = clock
        self._touched: dict[str, float] = {}

    # -- the password
    def password_set(self) -> bool:
        return self.records.admin_password_hash() is not None

    def setup(self, password: str) -> None:
        if self.password_set():
            raise PasswordAlreadySet(PasswordAlreadySet.MESSAGE)
        self._store_password(password)

    def check_password(self, password: str) -> bool:
        stored = self.records.admin_password_hash()
        return stored is not None and verify_password(stored, password)

    def change_password(self, current: str, new: str, keep_cookie: str | None = None) -> bool:
        """A new password ends every browser session but the caller's (`keep_cookie`, None when
        the caller is a token): a session opened with the old password is no proof of the new."""
        if not self.check_password(current):
            return False
        self._store_password(new)
        keep = tokens.digest(keep_cookie) if keep_cookie and len(keep_cookie) <= 200 else None
        self.records.delete_browser_sessions(keep)
        return True

    def _store_password(self, password: str) -> None:
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise InvalidInput(f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters")
        self.records.set_admin_password_hash(hash_password(password), self.clock())

    # -- browser sessions
    def start_session(self) -> tuple[str, BrowserSession]:
        """A new cookie value (only the caller sees it) and the stored session."""
        cookie = secrets.token_urlsafe(32)
        now = self.clock()
        session = BrowserSession(tokens.digest(cookie), secrets.token_urlsafe(32), now, now + SESSION_TTL_S)
        self.records.create_browser_session(session.id_hash, session.csrf_token, session.created_t, session.expires_t)
        return cookie, session

    def session(self, cookie: str) -> Principal | None:
        if not cookie or len(cookie) > 200:
            return None
        found = self.records.browser_session(tokens.digest(cookie), self.clock())
        return None if found is None else Principal("user", ADMIN, "admin", csrf_token=found.csrf_token)

    def end_session(self, cookie: str) -> None:
        if cookie and len(cookie) <= 200:
            self.records.delete_browser_session(tokens.digest(cookie))

    # -- API tokens
    def create_token(self, name: str, scope: Scope) -> tuple[str, ApiToken]:
        new = tokens.new_token()
        now = self.clock()
        self.records.create_token(new.id, name, [scope], new.hash, now)
        return new.token, ApiToken(new.id, name, [scope], new.hash, now, None, False)

    def tokens(self) -> list[ApiToken]:
        return self.records.tokens()

    def revoke(self, token_id: str) -> None:
        """Raises storage.NotFound for an unknown id."""
        self.records.revoke_token(token_id)
        self._touched.pop(token_id, None)

    def token_principal(self, token: str) -> Principal | None:
        if tokens.token_id(token) is None:
            return None
        found = self.records.token_by_hash(tokens.digest(token))
        if found is None or found.revoked:
            return None
        now = self.clock()
        if now - self._touched.get(found.id, float("-inf")) >= TOUCH_EVERY_S:
            self._touched[found.id] = now
            self.records.touch_token(found.id, now)
        return Principal("token", found.name, scope_of(found), token_id=found.id)


def scope_of(token: ApiToken) -> Scope:
    """The widest scope the token holds (storage keeps a list; this API gives one each)."""
    held = [s for s in SCOPES if s in token.scopes]
    return held[-1] if held else "read"
