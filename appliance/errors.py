"""The appliance's errors, in one hierarchy: catch `ApplianceError` for any failure the appliance
itself reports, or a branch for one kind, and let anything else (a bug) surface as it is.

The kinds also derive from the builtin they refine (`InvalidInput` is a `ValueError`, `NotFound` a
`LookupError`), so code that catches the builtin keeps working. `appliance.j1772` keeps its own
`PPInvalid`: the pure tables import nothing of the appliance.
"""

from __future__ import annotations


class ApplianceError(Exception):
    """Root of the errors the appliance raises on purpose."""


class InvalidInput(ApplianceError, ValueError):
    """What a caller, a file or a command gave is not acceptable (an API answers 422)."""


class NotFound(ApplianceError, LookupError):
    """The id names nothing there (an API answers 404)."""


class Refused(ApplianceError):
    """The request is well-formed but cannot be done now (busy, already done, not allowed in this state)."""


class BusError(ApplianceError):
    """A transfer on a hardware bus (SPI, GPIO, pigpio) or a driver behind it failed."""
