"""The OCPP link's settings and state. Admin only to change: the central system it names may
pause and limit the stations. The password is write-only: answers say only whether one is set."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from appliance.errors import InvalidInput
from appliance.supervisor.api.deps import Admin, Reader, audit
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.ocpp.service import OcppService
from appliance.supervisor.ocpp.settings import OcppSettings, check_url

router = APIRouter(tags=["ocpp"])


class OcppUpdate(BaseModel):
    """Fields left out keep their value; `password: null` removes the password, `url: null` the URL."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=500, description="ws[s]://HOST:PORT/PATH/<charge point id>")
    enabled: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=100)
    id_tag: str | None = Field(default=None, min_length=1, max_length=20)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)


def _service(request: Request) -> OcppService:
    service: OcppService = request.app.state.ocpp
    return service


@router.get("/ocpp", description="Settings (without the password), the link's state and its counters.")
async def ocpp(request: Request, _: Reader) -> dict[str, Any]:
    return _service(request).view()


@router.put("/ocpp", summary="Change the OCPP settings; the link restarts on them")
async def update_ocpp(body: OcppUpdate, request: Request, who: Admin) -> dict[str, Any]:
    service = _service(request)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("enabled") is None:
        changes.pop("enabled", None)
    if changes.get("id_tag") is None:
        changes.pop("id_tag", None)
    with user_input():
        settings = OcppSettings.model_validate({**service.settings.model_dump(), **changes})
        if settings.enabled and settings.url is None:
            raise InvalidInput("give the central system's url to enable OCPP")
    await service.reconfigure(settings)
    audited = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        audited["password_set"] = changes["password"] is not None
    audit(request.app.state.ctx, who, "ocpp.update", "ocpp", audited)
    return service.view()
