"""Storage of auth records: the password hash, hashed API tokens, browser sessions."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import pytest

from appliance.supervisor.storage import NotFound, Storage

T0 = 1_700_000_040.0


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_tokens_are_stored_as_hashes_only(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    token = f"evse_{secrets.token_hex(6)}_{secrets.token_hex(32)}"
    secret = token.split("_")[2]
    with Storage(path) as s:
        s.auth.create_token("a1b2c3d4e5f6", "garage display", ["read"], _sha256(token), T0)
        found = s.auth.token_by_hash(_sha256(token))
        assert found is not None and (found.id, found.name, found.scopes, found.revoked) == (
            "a1b2c3d4e5f6", "garage display", ["read"], False)
        files = [p for p in tmp_path.iterdir() if p.name.startswith("evse.db")]  # the WAL too, before checkpoint
        contents = b"".join(p.read_bytes() for p in files)
        assert _sha256(token).encode() in contents
        assert secret.encode() not in contents and token.encode() not in contents
    assert secret.encode() not in path.read_bytes()


def test_token_lifecycle(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as s:
        s.auth.create_token("000000000001", "solar", ["read", "control"], "h1", T0)
        s.auth.create_token("000000000002", "old", ["admin"], "h2", T0 + 1)
        with pytest.raises(ValueError, match="exists already"):
            s.auth.create_token("000000000001", "again", ["read"], "h3", T0)
        s.auth.touch_token("000000000001", T0 + 60)
        s.auth.revoke_token("000000000002")
        assert [t.id for t in s.auth.tokens()] == ["000000000001"]
        assert [t.revoked for t in s.auth.tokens(include_revoked=True)] == [False, True]
        used, revoked = s.auth.token("000000000001"), s.auth.token_by_hash("h2")
        assert used is not None and used.last_used_t == T0 + 60
        assert revoked is not None and revoked.revoked
        assert s.auth.token_by_hash("nope") is None
        with pytest.raises(NotFound):
            s.auth.revoke_token("ffffffffffff")
        with pytest.raises(ValueError, match="refused by the database: UNIQUE constraint failed: api_tokens.token"):
            s.auth.create_token("000000000004", "copy", ["read"], "h1", T0)
        assert len(s.auth.tokens(include_revoked=True)) == 2
        with pytest.raises(ValueError, match="scopes must be a non-empty list"):
            s.auth.create_token("000000000003", "x", "read", "h4", T0)


def test_admin_password_hash_and_browser_sessions(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as s:
        assert s.auth.admin_password_hash() is None  # first run: the UI asks for a password
        s.auth.set_admin_password_hash("scrypt$32768$8$1$c2FsdA==$aGFzaA==", T0)
        s.auth.set_admin_password_hash("scrypt$32768$8$1$bmV3$bmV3aGFzaA==", T0 + 1)
        assert s.auth.admin_password_hash() == "scrypt$32768$8$1$bmV3$bmV3aGFzaA=="

        s.auth.create_browser_session("sid-hash", "csrf-1", T0, T0 + 3600)
        session = s.auth.browser_session("sid-hash", T0 + 10)
        assert session is not None and session.csrf_token == "csrf-1"
        assert s.auth.browser_session("sid-hash", T0 + 3600) is None  # expired
        s.auth.create_browser_session("other", "csrf-2", T0, T0 + 10)
        assert s.purge(T0 + 3600).browser_sessions == 2
        s.auth.create_browser_session("third", "csrf-3", T0, T0 + 10)
        s.auth.delete_browser_session("third")
        assert s.auth.browser_session("third", T0) is None
        with pytest.raises(ValueError, match="end .* must be after start"):
            s.auth.create_browser_session("x", "y", T0, T0)


def test_ending_sessions_and_the_owners_reset(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as s:
        for n in (1, 2, 3):
            s.auth.create_browser_session(f"s{n}", f"csrf{n}", T0, T0 + 3600)
        assert s.auth.delete_browser_sessions(keep="s2") == 2
        assert [s.auth.browser_session(f"s{n}", T0) is not None for n in (1, 2, 3)] == [False, True, False]

        s.auth.create_token("000000000001", "solar", ["control"], "h1", T0)
        s.auth.create_token("000000000002", "display", ["read"], "h2", T0)
        s.auth.revoke_token("000000000002")
        assert s.auth.reset_admin("new-hash", T0 + 10) == (1, 1)  # s2; the one token not revoked before
        assert s.auth.admin_password_hash() == "new-hash"
        assert s.auth.browser_session("s2", T0) is None
        assert s.auth.tokens() == [] and all(t.revoked for t in s.auth.tokens(include_revoked=True))
        assert s.auth.delete_browser_sessions() == 0
