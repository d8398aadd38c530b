"""The auth rules without HTTP: token format and hashing, scopes, login backoff, sessions."""

from __future__ import annotations

import hashlib

import pytest
from fastapi import HTTPException

from appliance.supervisor.api.deps import authorize
from appliance.supervisor.auth import tokens
from appliance.supervisor.auth.backoff import FREE_ATTEMPTS, MAX_DELAY_S, LoginBackoff
from appliance.supervisor.auth.service import ANONYMOUS, SESSION_TTL_S, AuthService, PasswordAlreadySet, Principal
from appliance.supervisor.storage import Storage


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_tokens_have_the_documented_format_and_only_their_hash_is_kept() -> None:
    new = tokens.new_token()
    prefix, token_id, secret = new.token.split("_")
    assert (prefix, token_id) == ("evse", new.id) and len(secret) == 64
    assert new.hash == hashlib.sha256(new.token.encode()).hexdigest()
    assert tokens.token_id(new.token) == new.id
    for junk in ("", "evse__", f"evse_{new.id}_short", new.token + "x", "Bearer " + new.token, "é" * 80):
        assert tokens.token_id(junk) is None


def test_scopes_include_the_ones_below() -> None:
    assert tokens.allows("admin", "control") and tokens.allows("control", "read") and tokens.allows("read", "read")
    assert not tokens.allows("read", "control") and not tokens.allows("control", "admin")


def test_backoff_doubles_after_the_free_attempts_and_is_capped() -> None:
    clock = Clock()
    backoff = LoginBackoff(clock)
    for _ in range(FREE_ATTEMPTS - 1):
        backoff.failed("10.0.0.9")
    assert backoff.retry_after("10.0.0.9") == 0
    waits = []
    for _ in range(12):
        backoff.failed("10.0.0.9")
        waits.append(backoff.retry_after("10.0.0.9"))
    assert waits[:3] == [1.0, 2.0, 4.0] and waits[-1] == MAX_DELAY_S
    assert backoff.retry_after("10.0.0.10") == 0  # per address
    clock.t += MAX_DELAY_S
    assert backoff.retry_after("10.0.0.9") == 0
    backoff.succeeded("10.0.0.9")
    backoff.failed("10.0.0.9")
    assert backoff.retry_after("10.0.0.9") == 0  # a success forgives


def test_auth_service_on_real_storage(tmp_path) -> None:
    clock = Clock()
    with Storage(tmp_path / "evse.db") as storage:
        auth = AuthService(storage.auth, clock)
        assert not auth.password_set()
        with pytest.raises(ValueError, match="10 to 256 characters"):
            auth.setup("short")
        auth.setup("a long enough password")
        with pytest.raises(PasswordAlreadySet):
            auth.setup("another long password")
        stored = storage.auth.admin_password_hash()
        assert stored.startswith("scrypt$") and "a long enough password" not in stored
        assert auth.check_password("a long enough password") and not auth.check_password("A long enough password")

        cookie, session = auth.start_session()
        assert session.id_hash == tokens.digest(cookie) != cookie
        assert auth.session(cookie) == Principal("user", "admin", "admin", csrf_token=session.csrf_token)
        clock.t += SESSION_TTL_S
        assert auth.session(cookie) is None  # expired
        cookie, _ = auth.start_session()
        auth.end_session(cookie)
        assert auth.session(cookie) is None

        secret, token = auth.create_token("meter", "control")
        principal = auth.token_principal(secret)
        assert principal is not None
        assert (principal.kind, principal.name, principal.scope) == ("token", "meter", "control")
        assert principal.actor == "token:meter"
        assert storage.auth.token(token.id).last_used_t == clock.t
        auth.revoke(token.id)
        assert auth.token_principal(secret) is None and auth.tokens() == []


def test_authorize_decides_401_403_and_csrf() -> None:
    user = Principal("user", "admin", "admin", csrf_token="abc")
    reader = Principal("token", "display", "read")

    def status(*args) -> int:
        try:
            authorize(*args)
        except HTTPException as exc:
            return exc.status_code
        return 200

    assert status(None, "read", "GET", None, False) == 401
    assert authorize(None, "read", "GET", None, True) is ANONYMOUS
    assert status(None, "read", "POST", None, True) == 401  # read-only mode never allows changes
    assert status(reader, "control", "PATCH", None, False) == 403
    assert status(reader, "read", "GET", None, False) == 200
    assert status(user, "control", "PATCH", None, False) == 403  # cookie without CSRF token
    assert status(user, "control", "PATCH", "abd", False) == 403
    assert status(user, "control", "PATCH", "é", False) == 403  # non-ASCII header: a 403, not a crash
    assert status(user, "control", "PATCH", "abc", False) == 200
    assert status(user, "admin", "GET", None, False) == 200  # reads need no CSRF token
