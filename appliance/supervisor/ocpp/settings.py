"""The OCPP link's settings: the central system's URL (its last path segment is the charge
point id), on/off, the Basic-auth password of security profiles 1 and 2 (kept, never shown),
and the idTag of transactions the appliance starts on its own (free vending)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

SETTINGS_KEY = "ocpp.settings"
DEFAULT_ID_TAG = "evse-local"


def charge_point_id(url: str) -> str:
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def check_url(url: str) -> str:
    """ws[s]://HOST[:PORT]/PATH/<charge point id>; ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError("the URL must start with ws:// or wss://")
    if not parts.hostname:
        raise ValueError("the URL needs a host")
    try:
        _ = parts.port  # urllib checks the port only when it is read
    except ValueError:
        raise ValueError("the URL's port is not a number between 0 and 65535") from None
    if parts.username or parts.password:
        raise ValueError("put the password in the password field, not in the URL")
    cp_id = charge_point_id(url)
    if not cp_id or len(cp_id) > 48 or any(c in cp_id for c in "/?#") or not cp_id.isprintable():
        raise ValueError("the URL's last path segment must be the charge point id (1..48 characters)")
    return url


class OcppSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=500, description="ws[s]://HOST:PORT/PATH/<charge point id>")
    enabled: bool = False
    password: str | None = Field(default=None, min_length=1, max_length=100, description="Basic auth; write-only")
    id_tag: str = Field(default=DEFAULT_ID_TAG, min_length=1, max_length=20, description="idTag for free vending")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @property
    def charge_point_id(self) -> str | None:
        return None if self.url is None else charge_point_id(self.url)

    def public(self) -> dict[str, object]:
        """For the API: everything but the password."""
        return {"url": self.url, "enabled": self.enabled, "id_tag": self.id_tag,
                "password_set": self.password is not None, "charge_point_id": self.charge_point_id}


def load(stored: Any) -> OcppSettings:
    """The saved settings; the defaults (off) when there are none or they no longer pass."""
    try:
        return OcppSettings.model_validate(stored or {})
    except ValueError:
        return OcppSettings()


def with_url(stored: Any, url: str) -> dict[str, Any]:
    """`--ocpp-url`: the saved settings with this URL, switched on (ValueError for a bad URL)."""
    return OcppSettings.model_validate({**load(stored).model_dump(), "url": url, "enabled": True}).model_dump()
