"""image/test-update.sh's plan, from its dry run: one throw-away key signs the bundle and is the
key the image is built to trust, the bundle is one patch version above the image, and the boot
test gets both. (The build itself is slow and needs root; it is not run here.)"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import appliance

REPO = Path(__file__).resolve().parents[2]


def dry_run(tmp_path: Path, *extra: str) -> list[list[str]]:
    base = tmp_path / "base.img"
    base.write_bytes(b"")
    done = subprocess.run(["bash", str(REPO / "image/test-update.sh"), str(base), "--out", str(tmp_path / "out"),
                           "--dry-run", *extra], capture_output=True, text=True,
                          env={**os.environ, "EVSE_PYTHON": sys.executable}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "out").exists()  # a dry run changes nothing
    return [shlex.split(line[2:]) for line in done.stdout.splitlines() if line.startswith("+ ")] + \
        [shlex.split(line[len("next: "):]) for line in done.stdout.splitlines() if line.startswith("next: ")]


def step(plan: list[list[str]], *words: str) -> list[str]:
    return next(cmd for cmd in plan if all(w in cmd or any(c.endswith(w) for c in cmd) for w in words))


def test_the_image_trusts_the_key_that_signs_the_bundle(tmp_path: Path) -> None:
    plan = dry_run(tmp_path)
    version = appliance.__version__
    major, minor, patch = map(int, version.split("."))
    newer = f"{major}.{minor}.{patch + 1}"

    key = step(plan, "keygen")[-1]
    public = key.removesuffix(".pem") + ".pub"
    build = step(plan, "image/build-image.sh")
    assert build[1] == str(tmp_path / "base.img")
    assert build[build.index("--trust-key") + 1] == public
    assert build[build.index("--out") + 1] == str(tmp_path / "out")

    wheels = step(plan, "image/bundle-wheels.sh")
    assert wheels[wheels.index("--version") + 1] == newer
    bundle = step(plan, "bundle", "--key")
    assert bundle[bundle.index("--key") + 1] == key
    assert bundle[bundle.index("--wheels") + 1] == wheels[1]
    out = bundle[bundle.index("-o") + 1]
    assert out == str(tmp_path / "out" / f"evse-{newer}.bundle")
    verify = step(plan, "verify")
    assert verify[verify.index("--pubkey") + 1] == public

    boot = plan[-1]
    assert boot[:2] == ["sudo", str(REPO / "image/boot-test.sh")]
    assert boot[2:] == [str(tmp_path / "out" / f"evse-{version}.img.xz"), "--update", out]
    order = [" ".join(c) for c in plan]
    assert order.index(" ".join(step(plan, "keygen"))) < order.index(" ".join(build)) < order.index(" ".join(bundle))


def test_boot_test_runs_it_when_asked(tmp_path: Path) -> None:
    plan = dry_run(tmp_path, "--boot-test")
    assert plan[-1][0].endswith("image/boot-test.sh") and plan[-1][2] == "--update"


def test_the_private_key_is_throw_away(tmp_path: Path) -> None:
    key = step(dry_run(tmp_path), "keygen")[-1]
    assert re.search(r"evse-test-update\.\w+/test-update-key\.pem$", key)
    assert not Path(key).parent.exists()  # the script's temporary directory is gone


def test_the_dependency_wheels_are_cached_across_version_bumps(tmp_path: Path) -> None:
    """The cache key leaves out pyproject.toml's version line, so a bumped release reuses the arm64
    wheels; each build copies them (build-image.sh, bundle-wheels.sh) and never writes the cache."""
    text = (REPO / "pyproject.toml").read_text()
    unversioned = "".join(line for line in text.splitlines(keepends=True) if not re.match(r"^version *=", line))
    cached = tmp_path / f"wheelhouse-{hashlib.sha256(unversioned.encode()).hexdigest()[:12]}"
    cached.mkdir()
    done = subprocess.run(["bash", "-c", f". {REPO}/image/lib.sh && dependency_wheelhouse"], capture_output=True,
                          text=True, env={**os.environ, "EVSE_IMAGE_CACHE": str(tmp_path)}, timeout=30)
    assert done.stdout.strip() == str(cached), done.stderr
    for script in ("build-image.sh", "bundle-wheels.sh"):
        source = (REPO / "image" / script).read_text()
        assert "build_app_wheel" in source and "$(dependency_wheelhouse)" in source, script
        assert not re.search(r'build_app_wheel "\$py" "\$deps"', source), script
