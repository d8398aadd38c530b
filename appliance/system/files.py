"""Small edits of configuration files, shared by the image build and the first-boot setup
(standard library only: the image build runs it on the build machine's Python)."""

from __future__ import annotations

import re
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
