"""Request and response bodies of the REST API.

Station and site edits reuse the constraints of the supervisor's own settings models (a
partial copy of their fields), so the API and the core can never disagree about what a valid
value is. Every request model forbids unknown fields and non-finite numbers: a typo or a NaN
gets a 422 naming the field instead of being stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator
from pydantic.fields import FieldInfo

from appliance.errors import InvalidInput
from appliance.supervisor.auth.service import PASSWORD_MAX
from appliance.supervisor.auth.tokens import Scope
from appliance.supervisor.external_limit import MAX_POWER_W, Amps
from appliance.supervisor.mqtt.link import LinkStatus
from appliance.supervisor.mqtt.settings import check_topic, parse_url
from appliance.supervisor.names import Name, plain_name
from appliance.supervisor.settings import SiteSettings, StationSettings
from appliance.wiring import StationId

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
MAX_PRICE_SLOTS = 5000


def _partial(name: str, model: type[BaseModel], fields: tuple[str, ...], doc: str,
             **extra: Any) -> type[BaseModel]:
    """`model` with only `fields`, each optional (left out = unchanged), same constraints."""
    source = model.model_fields
    definitions: dict[str, Any] = {}
    for field in fields:
        annotation: Any = source[field].annotation
        definitions[field] = (annotation | None, FieldInfo.merge_field_infos(source[field], default=None))
    return create_model(name, __config__=STRICT, __doc__=doc, **definitions, **extra)


# Checked here, where names come in, not in StationSettings: a name saved before the check
# existed must not make the whole saved site (its line limit) unreadable at start-up.
if TYPE_CHECKING:  # built with create_model below; mypy knows them as the models they are
    StationPatch: TypeAlias = BaseModel
    StationHardware: TypeAlias = BaseModel
    SiteUpdate: TypeAlias = BaseModel
else:
    StationPatch = _partial(
        "StationPatch", StationSettings, ("name", "mode", "priority", "max_current_a", "departure", "energy_kwh"),
        "What a user may change on a station; fields left out stay as they are, null clears departure/energy.",
        __validators__={"plain_name": field_validator("name", mode="before")(plain_name)})

    StationHardware = _partial(
        "StationHardware", StationSettings, ("rating_a", "phase_rotation"),
        "A station's installation: its rating and which line phases feed its L1, L2, L3.",
        id=(StationId, ...))

    SiteUpdate = _partial(
        "SiteUpdate", SiteSettings,
        ("line_limit_a", "voltage_v", "price_threshold", "price_source", "read_only_without_login",
         "telemetry_retention_days"),
        "The site's settings; fields left out stay as they are.",
        stations=(list[StationHardware] | None, Field(default=None, max_length=2)))


class ClearFault(BaseModel):
    model_config = STRICT
    code: str | None = Field(default=None, max_length=64, description="clear only this fault code")
    service: bool = Field(default=False, description="service reset (ContactorWelded); needs admin")


class PriceSlot(BaseModel):
    model_config = STRICT
    start: float = Field(ge=0, description="epoch seconds")
    end: float = Field(ge=0, description="epoch seconds, after start")
    price: float = Field(ge=-1000, le=1000, description="per kWh")

    @model_validator(mode="after")
    def _ordered(self) -> PriceSlot:
        if self.end <= self.start:
            raise ValueError(f"slot end ({self.end:g}) must be after its start ({self.start:g})")
        return self


class Prices(BaseModel):
    """Slots replace the stored prices over [start, end) (default: the span of the slots);
    prices outside that range stay. No slots and a range clears the range."""

    model_config = STRICT
    slots: list[PriceSlot] = Field(max_length=MAX_PRICE_SLOTS)
    start: float | None = Field(default=None, ge=0)
    end: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Prices:
        self.slots = sorted(self.slots, key=lambda s: s.start)
        for a, b in zip(self.slots, self.slots[1:], strict=False):
            if b.start < a.end:
                raise ValueError(f"price slots overlap: {a.start:g}-{a.end:g} and {b.start:g}-{b.end:g}")
        if self.start is None:
            self.start = self.slots[0].start if self.slots else None
        if self.end is None:
            self.end = max((s.end for s in self.slots), default=None)
        if self.start is None or self.end is None:
            raise ValueError("give slots, or start and end to clear that range")
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:g}) must be after start ({self.start:g})")
        if self.slots and (self.slots[0].start < self.start or self.slots[-1].end > self.end):
            raise ValueError("every slot must lie within [start, end)")
        return self

    @property
    def span(self) -> tuple[float, float]:
        """[start, end), which validation always fills in."""
        if self.start is None or self.end is None:
            raise InvalidInput("give slots, or start and end to clear that range")
        return self.start, self.end


Watts = Annotated[float, Field(ge=-MAX_POWER_W, le=MAX_POWER_W)]


class MeterReading(BaseModel):
    """An external meter. Give the grid power (per line phase, or a total spread evenly), or
    house consumption and solar production, from which grid = house - solar."""

    model_config = STRICT
    t: float | None = Field(default=None, ge=0, description="epoch seconds; default: now")
    grid_w: tuple[Watts, Watts, Watts] | Watts | None = Field(default=None, description="positive = import")
    house_w: Watts | None = Field(default=None, ge=0, description="house consumption incl. the chargers")
    solar_w: Watts | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _complete(self) -> MeterReading:
        if self.grid_w is None and (self.house_w is None or self.solar_w is None):
            raise ValueError("give grid_w, or both house_w and solar_w")
        return self

    def per_phase(self) -> tuple[float, float, float]:
        if self.grid_w is None:
            total = (self.house_w or 0.0) - (self.solar_w or 0.0)
            return (total / 3, total / 3, total / 3)
        if isinstance(self.grid_w, tuple):
            return self.grid_w
        return (self.grid_w / 3, self.grid_w / 3, self.grid_w / 3)


MAX_LIMIT_S = 31 * 86400.0


class SiteLimit(BaseModel):
    """An energy manager's limit on the whole site: per-phase amps (one value for all three
    phases, or L1, L2, L3) and/or total watts; 0 means no charging. It lapses after
    `expires_in_s` or at `expires_at` (at most 31 days ahead); with neither it holds until cleared."""

    model_config = STRICT
    current_a: Amps | tuple[Amps, Amps, Amps] | None = Field(default=None, description="A per line phase")
    power_w: float | None = Field(default=None, ge=0, le=MAX_POWER_W, description="W, all phases together")
    expires_in_s: float | None = Field(default=None, gt=0, le=MAX_LIMIT_S, description="seconds from now")
    expires_at: float | None = Field(default=None, gt=0, description="epoch seconds")

    @model_validator(mode="after")
    def _complete(self) -> SiteLimit:
        if self.current_a is None and self.power_w is None:
            raise ValueError("give current_a, power_w or both")
        if self.expires_in_s is not None and self.expires_at is not None:
            raise ValueError("give expires_in_s or expires_at, not both")
        return self

    def per_phase(self) -> tuple[float, float, float] | None:
        if self.current_a is None or isinstance(self.current_a, tuple):
            return self.current_a
        return (self.current_a, self.current_a, self.current_a)


class Password(BaseModel):
    model_config = STRICT
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class Setup(Password):
    setup_code: str | None = Field(default=None, max_length=32,
                                   description="the one-time code shown at start-up; needed from the network")


class PasswordChange(BaseModel):
    model_config = STRICT
    current: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new: str = Field(min_length=1, max_length=PASSWORD_MAX)


class LoginResult(BaseModel):
    csrf_token: str = Field(description="send it back in the X-CSRF-Token header on every change")
    expires: float


class Me(BaseModel):
    authenticated: bool
    kind: Literal["user", "token", "anonymous"] | None
    name: str | None
    scope: Scope | None
    csrf_token: str | None = None
    password_set: bool
    read_only_without_login: bool
    setup_code_required: bool = Field(default=False, description="first-run setup from here needs the setup code")


class TokenCreate(BaseModel):
    model_config = STRICT
    name: Name = Field(min_length=1, max_length=40, pattern=r"^[\w .@:+-]+$", description="e.g. 'wallbox display'")
    scope: Scope = "read"


class TokenInfo(BaseModel):
    id: str
    name: str
    scope: Scope
    created: float
    last_used: float | None = None


class TokenCreated(TokenInfo):
    token: str = Field(description="shown only in this answer; store it now")


class SystemInfo(BaseModel):
    version: str
    started: float
    uptime_s: float
    simulated: bool
    hat: Literal["simulated", "hardware"]
    pilot_connected: bool
    pilot_reconnects: int | None
    pilot_problem: str | None = Field(default=None, description="why a reachable pilot process is not used "
                                                                "(e.g. it speaks another protocol version)")
    updates_available: bool
    tls_fingerprint: str | None = Field(default=None, description="SHA-256 of the HTTPS certificate (null: no "
                                                                   "HTTPS); compare it with what the browser shows")


class MqttUpdate(BaseModel):
    """The MQTT setting; fields left out stay as they are. A password in the URL is stored apart
    from it; `password` sets it alone ("" clears it). `url` null forgets the broker."""

    model_config = STRICT
    enabled: bool | None = None
    url: str | None = Field(default=None, max_length=500, description="mqtt[s]://[USER:PASS@]HOST[:PORT]")
    password: str | None = Field(default=None, max_length=PASSWORD_MAX)
    base_topic: str | None = Field(default=None, description="default evse/<hostname>")
    discovery_prefix: str | None = Field(default=None, description="Home Assistant's, default homeassistant")
    read_only: bool | None = Field(default=None, description="publish only; take no commands")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_url(value)
        return value

    @field_validator("base_topic", "discovery_prefix")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        return None if value is None else check_topic(value)


class MqttInfo(BaseModel):
    """The MQTT setting without the password, and the link's state."""

    enabled: bool
    url: str | None = Field(description="without the password")
    password_set: bool
    base_topic: str
    discovery_prefix: str
    read_only: bool
    link: LinkStatus
