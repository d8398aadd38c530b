"""Query parameters shared by the history endpoints, with their limits in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

Start = Annotated[float | None, Query(ge=0, allow_inf_nan=False, description="epoch seconds, inclusive")]
End = Annotated[float | None, Query(ge=0, allow_inf_nan=False, description="epoch seconds, exclusive")]
StationFilter = Annotated[int | None, Query(ge=1, le=99, description="only this station")]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most 1000 per page")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
