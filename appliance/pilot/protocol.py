"""Pilot <-> supervisor protocol, version 1: newline-delimited JSON over a Unix socket.

Documented for humans in docs/protocol.md; this module is the schema both sides use.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 64 * 1024
LINE_CHECK = "per_phase"
"""How `set` is checked against the line limit, told in `hello`: per line phase, each car counted
on the line phases it draws on. A pilot that does not say checks the plain sum of both stations."""


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1] = 1
    id: int | str | None = None


class Hello(_Command):
    cmd: Literal["hello"]
    client: str = Field(default="", max_length=200)


class Heartbeat(_Command):
    cmd: Literal["heartbeat"]


class SetCurrent(_Command):
    cmd: Literal["set"]
    station: int
    current_a: float = Field(allow_inf_nan=False)
    allowed: bool


class SetLineLimit(_Command):
    cmd: Literal["set_line_limit"]
    line_limit_a: float = Field(allow_inf_nan=False)


class GetAll(_Command):
    cmd: Literal["get_all"]


class ClearFault(_Command):
    cmd: Literal["clear_fault"]
    station: int
    code: str | None = None
    service: bool = False


class FetchLogs(_Command):
    cmd: Literal["fetch_logs"]
    since: int = Field(default=0, ge=0)
    limit: int = Field(default=500, ge=1, le=5000)


class SelfTest(_Command):
    cmd: Literal["self_test"]
    station: int


Command = Annotated[
    Union[Hello, Heartbeat, SetCurrent, SetLineLimit, GetAll, ClearFault, FetchLogs, SelfTest],
    Field(discriminator="cmd"),
]
COMMAND = TypeAdapter(Command)
COMMAND_NAMES = ("hello", "heartbeat", "set", "set_line_limit", "get_all", "clear_fault", "fetch_logs", "self_test")


def reply(command_id: Any, **fields: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": command_id, "ok": True, **fields}


def error(command_id: Any, code: str, message: str) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": command_id, "ok": False, "error": {"code": code, "message": message}}


def event(name: str, **fields: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "event": name, **fields}
