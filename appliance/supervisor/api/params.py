"""Path and query parameters shared by the endpoints, with their limits in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

Start = Annotated[float | None, Query(ge=0, allow_inf_nan=False, description="epoch seconds, inclusive")]
End = Annotated[float | None, Query(ge=0, allow_inf_nan=False, description="epoch seconds, exclusive")]
# Any plausible station id passes, so that an unknown station is a 404, not a 422.
StationPath = Annotated[int, Path(ge=1, le=99, description="the station's id (1 or 2 on this appliance)")]
StationFilter = Annotated[int | None, Query(ge=1, le=99, description="only this station")]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most 1000 per page")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
