"""Pilot <-> supervisor protocol, version 2: newline-delimited JSON over a Unix socket.

One set of models for both ends: the pilot validates commands and builds replies and events
from them, the supervisor builds commands from them and parses replies and events into them,
so a field is named in one place. Documented for humans in docs/protocol.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION: Final = 2
SUPPORTED_VERSIONS = (2,)
MAX_LINE_BYTES = 64 * 1024
LINE_CHECK: Final = "per_phase"
"""How `set` is checked against the line limit, told in `hello`: per line phase, each car counted
on the line phases it draws on."""


class ErrorCode(StrEnum):
    """Why a command got `ok: false`; the set is closed, the message says the rest."""

    BAD_JSON = "bad_json"
    BAD_REQUEST = "bad_request"
    UNKNOWN_COMMAND = "unknown_command"
    UNSUPPORTED_VERSION = "unsupported_version"
    REJECTED = "rejected"


class _Message(BaseModel):
    """Replies and events ignore fields they do not know, so a pilot may add some within a version."""

    model_config = ConfigDict(populate_by_name=True)
    v: Literal[2] = PROTOCOL_VERSION

    def wire(self) -> dict[str, Any]:
        """The JSON-ready form sent on the socket."""
        return self.model_dump(mode="json", by_alias=True)


# ---------------------------------------------------------------------------- shared records
class FaultInfo(BaseModel):
    code: str
    message: str
    since: float
    blocking: bool = Field(description="the station cannot charge while it lasts")


class SelfTestResult(BaseModel):
    t: float
    passed: bool
    reason: str


class StationSnapshot(BaseModel):
    """One station as the pilot sees it: the field list both ends share."""

    station: int
    state: str = "A"
    pilot: str = "X1"
    duty_pct: float | None = None
    offered_a: float = 0.0
    requested_a: float = 0.0
    allowed: bool = False
    contactor: bool = False
    cable_a: float | None = None
    max_current_a: float = 32.0
    phase_rotation: list[int] = Field(default_factory=lambda: [1, 2, 3])
    line_phases: list[int] = Field(default_factory=lambda: [1, 2, 3])
    faults: list[FaultInfo] = Field(default_factory=list)
    voltage_v: list[float] = Field(default_factory=lambda: [0.0, 0.0, 0.0])
    current_a: list[float] = Field(default_factory=lambda: [0.0, 0.0, 0.0])
    power_w: list[float] = Field(default_factory=lambda: [0.0, 0.0, 0.0])
    energy_wh: float = 0.0
    frequency_hz: float | None = None
    self_test: SelfTestResult | None = None


class Snapshot(BaseModel):
    t: float
    line_limit_a: float
    held_limit_a: list[float] | None = Field(default=None, description="an energy manager's limit the pilot holds")
    held_expires_in_s: float | None = None
    supervisor_lost: bool
    temperature_c: float | None
    stations: dict[int, StationSnapshot]


class StationInfo(BaseModel):
    """A station's configuration as the pilot holds it."""

    id: int
    max_current_a: float
    phase_rotation: list[int]
    ventilation: bool = False
    tethered: bool = False


class LogEntry(BaseModel):
    seq: int
    t: float
    level: str
    station: int | None
    message: str


# ---------------------------------------------------------------------------- replies
class Reply(_Message):
    id: int | str | None = None
    ok: Literal[True] = True


class ErrorInfo(BaseModel):
    code: ErrorCode
    message: str


class ErrorReply(_Message):
    id: int | str | None = None
    ok: Literal[False] = False
    error: ErrorInfo


class HelloReply(Reply):
    protocol: int = PROTOCOL_VERSION
    versions: list[int] = Field(default_factory=lambda: list(SUPPORTED_VERSIONS))
    version: str
    simulated: bool
    boot_id: str
    line_check: Literal["per_phase"] = LINE_CHECK
    line_limit_a: float
    stations: list[StationInfo]


class HeartbeatReply(Reply):
    t: float


class SetReply(Reply):
    station: int
    requested_a: float
    allowed: bool


class LineLimitReply(Reply):
    line_limit_a: float


class HeldLimitReply(Reply):
    limit_a: list[float] | None
    expires_in_s: float | None


class SnapshotReply(Reply, Snapshot):
    pass


class ClearFaultReply(Reply):
    cleared: list[str]


class LogsReply(Reply):
    last_seq: int
    entries: list[LogEntry]


class SelfTestReply(Reply):
    station: int
    started: bool


# ---------------------------------------------------------------------------- commands
R = TypeVar("R", bound=Reply)
PhaseAmps = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]


class BaseCommand(_Message, Generic[R]):
    """The pilot takes no field it does not know: a typo must not pass as a default."""

    model_config = ConfigDict(extra="forbid")
    id: int | str | None = None
    reply_type: ClassVar[type[Reply]] = Reply
    """The model its reply parses into: the class's type argument, `Hello(BaseCommand[HelloReply])`."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for base in cls.__mro__:
            args = getattr(base, "__pydantic_generic_metadata__", {}).get("args")
            if args and isinstance(args[0], type) and issubclass(args[0], Reply):
                cls.reply_type = args[0]
                return


class Hello(BaseCommand[HelloReply]):
    cmd: Literal["hello"] = "hello"
    client: str = Field(default="", max_length=200)
    versions: list[int] | None = Field(default=None, max_length=16,
                                       description="the versions the client speaks; default: the message's `v`")


class Heartbeat(BaseCommand[HeartbeatReply]):
    cmd: Literal["heartbeat"] = "heartbeat"


class SetCurrent(BaseCommand[SetReply]):
    cmd: Literal["set"] = "set"
    station: int
    current_a: float = Field(allow_inf_nan=False)
    allowed: bool


class SetLineLimit(BaseCommand[LineLimitReply]):
    cmd: Literal["set_line_limit"] = "set_line_limit"
    line_limit_a: float = Field(allow_inf_nan=False)


class HoldLimit(BaseCommand[HeldLimitReply]):
    """An energy manager's limit per line phase for the pilot to hold, so it binds also while the
    supervisor is gone; `limit_a` null lifts it."""

    cmd: Literal["hold_limit"] = "hold_limit"
    limit_a: tuple[PhaseAmps, PhaseAmps, PhaseAmps] | None = Field(description="per line phase L1, L2, L3")
    expires_in_s: float | None = Field(default=None, gt=0, allow_inf_nan=False,
                                       description="on the pilot's clock; null: until lifted")


class GetAll(BaseCommand[SnapshotReply]):
    cmd: Literal["get_all"] = "get_all"


class ClearFault(BaseCommand[ClearFaultReply]):
    cmd: Literal["clear_fault"] = "clear_fault"
    station: int
    code: str | None = None
    service: bool = False


class FetchLogs(BaseCommand[LogsReply]):
    cmd: Literal["fetch_logs"] = "fetch_logs"
    since: int = Field(default=0, ge=0)
    limit: int = Field(default=500, ge=1, le=5000)


class SelfTest(BaseCommand[SelfTestReply]):
    cmd: Literal["self_test"] = "self_test"
    station: int


Command = Annotated[
    Hello | Heartbeat | SetCurrent | SetLineLimit | HoldLimit | GetAll | ClearFault | FetchLogs | SelfTest,
    Field(discriminator="cmd"),
]
COMMAND: TypeAdapter[Command] = TypeAdapter(Command)
COMMAND_NAMES = ("hello", "heartbeat", "set", "set_line_limit", "hold_limit", "get_all", "clear_fault", "fetch_logs",
                 "self_test")


# ---------------------------------------------------------------------------- events
class StateCause(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from")
    to: str


class StateEvent(_Message, StationSnapshot):
    """Pushed at once on every change of a station's state, pilot mode, offer or contactor."""

    event: Literal["state"] = "state"
    t: float
    cause: StateCause | None = None


class FaultEvent(_Message):
    event: Literal["fault"] = "fault"
    t: float
    station: int
    code: str
    active: bool
    message: str


class TelemetryEvent(_Message, Snapshot):
    event: Literal["telemetry"] = "telemetry"


Event = Annotated[StateEvent | FaultEvent | TelemetryEvent, Field(discriminator="event")]
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def error(command_id: Any, code: ErrorCode, message: str) -> dict[str, Any]:
    """An error reply on the wire."""
    return ErrorReply(id=command_id, error=ErrorInfo(code=code, message=message)).wire()
