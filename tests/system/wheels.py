"""Tiny stand-ins for the appliance's wheel: real wheels pip installs in a second, whose code says
which version it is, or fails to start like a broken release."""

from __future__ import annotations

import zipfile
from pathlib import Path


def make_wheel(directory: Path, version: str, *, starts: bool = True, requires: tuple[str, ...] = ()) -> Path:
    """evse_appliance-<version>-py3-none-any.whl; `starts=False` makes `import appliance` fail."""
    dist = f"evse_appliance-{version}.dist-info"
    init = f'__version__ = "{version}"\n'
    if not starts:
        init += 'raise RuntimeError("this release crashes at start-up")\n'
    files = {
        "appliance/__init__.py": init,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: evse-appliance\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{dist}/RECORD"])
    path = directory / f"evse_appliance-{version}-py3-none-any.whl"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path
