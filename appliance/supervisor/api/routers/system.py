"""The appliance itself: version, uptime, simulated or real HAT, pilot link, software updates.

An update is a signed bundle uploaded as the request body; the UpdateManager verifies and stages
it, then asks the root installer to switch. Because that restarts the pilot (which opens the
contactors), it is refused while a car charges unless the caller passes force=true. A version
older than the running one is refused unless the caller passes allow_downgrade=true; the
running version again is always refused. The update lock is taken before the upload is read:
a second upload meanwhile is a 409 at once, one that would fill the data partition a 507.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from appliance.supervisor.api.deps import Admin, Ctx, Reader, audit
from appliance.supervisor.api.schemas import SystemInfo
from appliance.supervisor.app_context import AppContext

router = APIRouter(prefix="/system", tags=["system"])
UPLOAD_PATH = "/update"  # checked against the updater's own size limit while it arrives
NO_UPDATES: dict[int | str, dict[str, Any]] = {503: {"description": "updates not available in this build"}}
BUNDLE = {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
SPOOL_IN_RAM = 8 * 1024 * 1024  # larger uploads go to a file in the data directory


@router.get("", response_model=SystemInfo)
async def system(request: Request, ctx: Ctx, _: Reader) -> SystemInfo:
    now = ctx.clock()
    return SystemInfo(version=ctx.version, started=ctx.started, uptime_s=max(0.0, now - ctx.started),
                      simulated=ctx.simulated, hat="simulated" if ctx.simulated else "hardware",
                      pilot_connected=ctx.core.pilot_connected,
                      pilot_reconnects=None if ctx.runtime is None else ctx.runtime.link.reconnects,
                      pilot_problem=None if ctx.runtime is None else ctx.runtime.link.problem,
                      updates_available=ctx.updater is not None,
                      tls_fingerprint=request.app.state.options.tls_fingerprint)


def _updater(ctx: AppContext) -> Any:
    if ctx.updater is None:
        raise HTTPException(status_code=503, detail="updates not available in this build")
    return ctx.updater


@router.get("/update", responses=NO_UPDATES, summary="Progress of the current or last update")
async def update_status(ctx: Ctx, _: Reader) -> dict[str, Any]:
    return dict(_updater(ctx).status().to_dict())


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=f"larger than {limit} bytes: not an update bundle")


@contextmanager
def _refusals() -> Iterator[None]:
    """The updater's refusals as answers: busy 409, no room 507, not newer 409, a bad bundle 422."""
    from appliance.system.bundle import BundleError
    from appliance.system.update import NoSpace, NotNewer, UpdateBusy

    try:
        yield
    except (UpdateBusy, NotNewer) as exc:
        raise HTTPException(status_code=409, detail=f"update refused: {exc}") from None
    except NoSpace as exc:
        raise HTTPException(status_code=507, detail=f"update refused: {exc}") from None
    except BundleError as exc:
        raise HTTPException(status_code=422, detail=f"update refused: {exc}") from None


@router.post(UPLOAD_PATH, responses={**NO_UPDATES, 409: {"description": "busy, a car charges, or not newer"},
                                     507: {"description": "not enough free space"}},
             openapi_extra={"requestBody": {"required": True, **BUNDLE}},
             summary="Upload a signed update bundle and install it; force=true even while a car charges, "
                     "allow_downgrade=true for a version older than the running one")
async def update(request: Request, ctx: Ctx, who: Admin, force: bool = False,
                 allow_downgrade: bool = False) -> dict[str, Any]:
    # Imported here: the updater (and its crypto library) exists only in appliance builds.
    from appliance.system.update import UpdateRefused

    updater = _updater(ctx)
    audit(ctx, who, "system.update", "system", {"force": force, "allow_downgrade": allow_downgrade})
    declared = request.headers.get("content-length", "")
    size: int | None = int(declared) if declared.isdigit() else None
    if size is not None and size > updater.max_bundle_bytes:
        raise _too_large(updater.max_bundle_bytes)
    with _refusals(), updater.receiving(size) as check_space, \
            tempfile.SpooledTemporaryFile(SPOOL_IN_RAM, dir=str(ctx.data_dir)) as upload:
        async for chunk in request.stream():
            if upload.tell() + len(chunk) > updater.max_bundle_bytes:
                raise _too_large(updater.max_bundle_bytes)
            check_space(upload.tell() + len(chunk))
            await run_in_threadpool(upload.write, chunk)
        size = upload.tell()
        upload.seek(0)
        staged = await run_in_threadpool(updater.stage, upload, size, allow_downgrade)
    try:
        decision = updater.request(staged, ctx.core.snapshot(), force, allow_downgrade)
    except UpdateRefused as exc:
        raise HTTPException(status_code=409, detail={"message": exc.decision.warning,
                                                     "charging": list(exc.decision.charging)}) from None
    return {"version": staged.version, "warning": decision.warning, "status": updater.status().to_dict()}
