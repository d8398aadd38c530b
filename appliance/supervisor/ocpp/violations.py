"""Which OCPP-J 1.6 CallError a schema-invalid Call gets. The library answers every failure it
does not single out with FormatViolation (a 2.0 code); OCPP-J 1.6 §4.2.3 names finer ones: a
value outside its allowed set or range is a PropertyConstraintViolation, too many or too few
items an OccurenceConstraintViolation, and only a payload that does not fit the PDU's structure
a FormationViolation."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import (
    FormationViolationError,
    OccurenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
)
from ocpp.messages import MessageType, get_validator

PROPERTY = {"enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "pattern",
            "format", "minLength"}
OCCURRENCE = {"minItems", "maxItems", "uniqueItems"}


def schema_violation(action: str, payload: Any, description: str) -> OCPPError:
    """The error for a Call the library found schema-invalid without naming why; `description`
    is the library's, kept."""
    # the library's own validator (cached as it made it) on the payload as it left it: where a
    # schema has decimals (a limit's multipleOf 0.1) the library has turned the payload's too
    validator = get_validator(MessageType.Call, action, "1.6")
    error = next(iter(validator.iter_errors(payload)), None)  # the one the library raised
    kind = error.validator if error is not None else None
    details = {"cause": error.message} if error is not None else {}
    if kind in PROPERTY:
        return PropertyConstraintViolationError(description=description, details=details)
    if kind in OCCURRENCE:
        return OccurenceConstraintViolationError(description=description, details=details)
    return FormationViolationError(description=description, details=details)
