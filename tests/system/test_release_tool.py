"""The release tool as a release manager uses it, and the extra keys a test image trusts."""

from __future__ import annotations

from pathlib import Path

from appliance.system.release_tool import main
from appliance.system.signing import RELEASE_PUBLIC_KEYS, public_pem, release_keys
from tests.system.wheels import make_wheel


def test_keygen_creates_its_directory(tmp_path: Path, capsys: object) -> None:
    """`sign keygen ~/.config/evse/release-key.pem` on a fresh machine, where ~/.config/evse is missing."""
    key = tmp_path / "home/.config/evse/release-key.pem"
    assert main(["keygen", str(key)]) == 0
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent.stat().st_mode & 0o777 == 0o700
    assert key.with_suffix(".pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_a_bundle_signed_with_a_new_key_verifies_with_its_public_half(tmp_path: Path) -> None:
    key = tmp_path / "keys/test.pem"
    assert main(["keygen", str(key)]) == 0
    make_wheel(tmp_path / "wheels", "0.9.0")
    out = tmp_path / "evse-0.9.0.bundle"
    assert main(["bundle", "--key", str(key), "--wheels", str(tmp_path / "wheels"), "-o", str(out)]) == 0
    assert main(["verify", str(out), "--pubkey", str(key.with_suffix(".pub"))]) == 0
    assert main(["verify", str(out)]) == 1  # the release keys did not sign it


def test_a_device_also_trusts_the_keys_in_its_extra_key_directory(tmp_path: Path) -> None:
    extra = tmp_path / "update-keys"
    assert len(release_keys(extra)) == len(RELEASE_PUBLIC_KEYS)  # no directory: the release keys only
    key = tmp_path / "k/test.pem"
    main(["keygen", str(key)])
    extra.mkdir()
    (extra / "test-image.pub").write_bytes(key.with_suffix(".pub").read_bytes())
    (extra / "README").write_text("not a key")
    keys = release_keys(extra)
    assert len(keys) == len(RELEASE_PUBLIC_KEYS) + 1
    assert public_pem(keys[-1]) == key.with_suffix(".pub").read_bytes()
