"""What `user_input` turns into an HTTP answer, and what it lets through as the bug it is."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from appliance.errors import ApplianceError, InvalidInput, NotFound, Refused
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.settings import StationSettings


@pytest.mark.parametrize(
    ("error", "status"), [(InvalidInput("max_current_a too high"), 422), (NotFound("no token x"), 404)]
)
def test_bad_input_and_unknown_ids_are_answered(error: Exception, status: int) -> None:
    with pytest.raises(HTTPException) as answered, user_input():
        raise error
    assert answered.value.status_code == status
    assert answered.value.detail == str(error)


def test_a_model_validated_from_the_request_is_a_422_with_pydantics_details() -> None:
    with pytest.raises(HTTPException) as answered, user_input():
        StationSettings.model_validate({"id": 1, "max_current_a": "lots"})
    assert answered.value.status_code == 422
    assert any(e["loc"][-1] == "max_current_a" for e in answered.value.detail)


@pytest.mark.parametrize("bug", [ValueError("math domain error"), KeyError("x"), Refused("busy")])
def test_anything_else_is_not_taken_for_bad_input(bug: Exception) -> None:
    with pytest.raises(type(bug)), user_input():
        raise bug


def test_the_kinds_share_one_root_and_keep_their_builtin() -> None:
    assert issubclass(InvalidInput, ValueError) and issubclass(NotFound, LookupError)
    assert all(issubclass(kind, ApplianceError) for kind in (InvalidInput, NotFound, Refused))
