"""Small edits of configuration files, shared by the image build and the first-boot setup
(standard library only: the image build runs it on the build machine's Python)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path


def replace_line(path: Path, pattern: str, line: str, *, before: str | None = None) -> None:
    """Replace the first line matching `pattern`, or insert `line` before the first line matching
    `before` (at the end when there is none); creates the file if needed."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for i, old in enumerate(lines):
        if re.match(pattern, old):
            lines[i] = line
            break
    else:
        at = next((i for i, old in enumerate(lines) if before and re.match(before, old)), len(lines))
        lines.insert(at, line)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_hostname(root: Path, name: str) -> None:
    """/etc/hostname and the 127.0.1.1 line of /etc/hosts, as Debian keeps them."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/hostname").write_text(name + "\n", encoding="utf-8")
    replace_line(root / "etc/hosts", r"^127\.0\.1\.1\s", f"127.0.1.1\t{name}")


def write_private(path: Path, text: str, owner: tuple[int, int] | None = None) -> None:
    """Root writes into the data directory, which evse owns: a fresh file (O_EXCL, O_NOFOLLOW)
    given its mode and owner through the descriptor, then renamed over whatever was there, so a
    planted symbolic link or FIFO is replaced, never followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        tmp = f".{path.name}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), 0o600)
                if owner is not None:
                    os.fchown(f.fileno(), *owner)
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path.name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=directory)
            raise
    finally:
        os.close(directory)
