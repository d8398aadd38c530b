"""API benchmarks against a real uvicorn server in its own process on 127.0.0.1 (random port):
REST latency at 50 concurrent clients and WebSocket fan-out to 100 clients, each against a
one-client baseline measured in the same run. The load generator for the fan-out feeds pilot
state events into the server's core (the path a real pilot's events take). Figures only.

Run the server by hand with `python -m tests.bench.test_bench_api serve DATA_DIR`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from websockets.asyncio.client import connect

from tests.bench.conftest import percentile
from tests.pilot_messages import event

pytestmark = pytest.mark.realtime
REST_CLIENTS = 50
REST_REQUESTS = 2000
WRITE_REQUESTS = 500
BASELINE_REQUESTS = 200
WS_CLIENTS = 100
EVENTS_PER_S = 100
EVENTS_S = 5.0
SLOW_FLOOD = (2000.0, 3.0)  # ~6 MB of events: more than a stalled socket's buffers absorb


# ---------------------------------------------------------------------------- the server process
def _serve(data_dir: Path) -> None:
    """A real app on uvicorn; prints its port and two tokens, then takes `burst RATE SECONDS`
    lines on stdin to feed pilot state events into the core."""
    import uvicorn

    from appliance import __version__
    from appliance.supervisor.api.app import create_app
    from appliance.supervisor.app_context import AppContext
    from appliance.supervisor.core import SupervisorCore
    from appliance.supervisor.settings import SiteSettings
    from appliance.supervisor.storage import Storage

    storage = Storage(data_dir / "evse.db")
    core = SupervisorCore(SiteSettings())
    app = create_app(AppContext(core=core, storage=storage, data_dir=data_dir, version=__version__, simulated=True),
                     web_dir=data_dir / "no-web-ui")
    tokens = {scope: app.state.ctx.auth.create_token(f"bench {scope}", scope)[0] for scope in ("read", "control")}
    # proto=IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets; without it h11's
    # separate header and body writes meet delayed ACKs (40 ms per keep-alive request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))

    async def burst(rate: float, seconds: float) -> None:
        next_at = time.monotonic()
        for seq in range(int(rate * seconds)):
            state = "C" if seq % 2 else "B"
            core.on_pilot_message(event("state", time.time(), station=1, state=state), time.time())
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def commands(loop: asyncio.AbstractEventLoop) -> None:
        for line in sys.stdin:
            _, rate, seconds = line.split()
            asyncio.run_coroutine_threadsafe(burst(float(rate), float(seconds)), loop)

    async def main() -> None:
        threading.Thread(target=commands, args=(asyncio.get_running_loop(),), daemon=True).start()
        print(json.dumps({"port": sock.getsockname()[1], **tokens}), flush=True)
        await server.serve(sockets=[sock])

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly on SIGINT, then re-raised it
    finally:
        storage.close()


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int
    tokens: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def burst(self, rate: float, seconds: float) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"burst {rate} {seconds}\n")
        self.proc.stdin.flush()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.test_bench_api", "serve", str(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    hello = json.loads(proc.stdout.readline())
    yield Server(proc, hello.pop("port"), hello)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)


# ---------------------------------------------------------------------------- REST
async def _load(server: Server, clients: int, total: int, request: Callable[[httpx2.AsyncClient, int], Any]
                ) -> tuple[list[float], float]:
    """`total` requests from `clients` concurrent workers; latencies in ms and the wall time."""
    latencies: list[float] = []
    counter = iter(range(total))
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx2.AsyncClient(base_url=server.base, limits=limits, timeout=30) as client:
        async def worker() -> None:
            for n in counter:
                started = time.perf_counter()
                answer = await request(client, n)
                latencies.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, time.perf_counter() - started


def _rest_figures(server: Server, name: str, total: int, request: Callable[[httpx2.AsyncClient, int], Any]
                  ) -> dict[str, Any]:
    asyncio.run(_load(server, 5, 50, request))  # warm-up: connections, caches
    base, base_wall = asyncio.run(_load(server, 1, BASELINE_REQUESTS, request))
    cpu0 = server.cpu_s()
    lat, wall = asyncio.run(_load(server, REST_CLIENTS, total, request))
    cpu = server.cpu_s() - cpu0
    return {"request": name, "clients": REST_CLIENTS, "requests": total, "unit": "ms",
            "p50": round(percentile(lat, 50), 2), "p99": round(percentile(lat, 99), 2), "max": round(max(lat), 2),
            "throughput_per_s": round(total / wall, 1), "server_cpu_pct": round(100 * cpu / wall, 1),
            "server_cpu_ms_per_request": round(1000 * cpu / total, 3),
            "baseline_clients": 1, "baseline_requests": BASELINE_REQUESTS,
            "baseline_p50": round(percentile(base, 50), 2), "baseline_p99": round(percentile(base, 99), 2),
            "baseline_throughput_per_s": round(BASELINE_REQUESTS / base_wall, 1),
            "ratio_p50": round(percentile(lat, 50) / percentile(base, 50), 2),
            "ratio_p99": round(percentile(lat, 99) / percentile(base, 99), 2)}


def test_rest_latency_at_50_concurrent_clients(server: Server, emit: Callable[..., None]) -> None:
    read, control = server.headers("read"), server.headers("control")

    def status(client: httpx2.AsyncClient, n: int) -> Any:
        return client.get("/api/v1/status", headers=read)

    def patch(client: httpx2.AsyncClient, n: int) -> Any:
        return client.patch("/api/v1/stations/1", json={"priority": n % 10}, headers=control)

    emit("api_rest_latency", **_rest_figures(server, "GET /api/v1/status (read token)", REST_REQUESTS, status),
         note="client and server share this machine's cores")
    emit("api_rest_latency", **_rest_figures(server, "PATCH /api/v1/stations/1 (control token; audit + settings "
                                                     "written to SQLite)", WRITE_REQUESTS, patch),
         note="client and server share this machine's cores")


# ---------------------------------------------------------------------------- WebSocket fan-out
@dataclass
class Received:
    events: int = 0
    messages: int = 0
    last: float = 0.0  # monotonic time of the last event
    latencies_ms: list[float] = field(default_factory=list)


async def _listen(url: str, headers: dict[str, str], deadline: list[float], ready: asyncio.Event,
                  out: Received) -> None:
    """Counts what arrives until deadline[0] (set once every client is connected)."""
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        await ws.recv()  # the snapshot on connect
        ready.set()
        while (left := deadline[0] - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                return
            out.messages += 1
            message = json.loads(raw)
            if message["type"] == "state":  # the burst's events carry the wall clock at sending as `t`
                out.events += 1
                out.last = time.monotonic()
                out.latencies_ms.append((time.time() - message["event"]["t"]) * 1000)


def _stalled(port: int, token: str, until: float) -> int | None:
    """A raw WebSocket client that stops reading (4 KiB receive buffer) until `until`, then reads
    what is left: the close code the server sent (1013 = dropped as too slow), None if none."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    time.sleep(max(0.0, until - time.monotonic()))
    sock.settimeout(5)
    stream = sock.makefile("rb")
    stream.readline()  # 101 Switching Protocols
    while stream.readline() not in (b"\r\n", b""):
        pass
    try:
        while header := stream.read(2):
            length = header[1] & 0x7F
            if length >= 126:
                length = int.from_bytes(stream.read(2 if length == 126 else 8), "big")
            payload = stream.read(length)
            if header[0] & 0x0F == 0x8:  # close
                return int.from_bytes(payload[:2], "big")
    except TimeoutError:
        pass
    finally:
        sock.close()
    return None


async def _fan_out(server: Server, clients: int, rate: float = EVENTS_PER_S, seconds: float = EVENTS_S,
                   stalled: bool = False) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}/api/v1/ws"
    headers = server.headers("read")
    received = [Received() for _ in range(clients)]
    ready = [asyncio.Event() for _ in range(clients)]
    deadline = [time.monotonic() + 60.0]
    tasks = [asyncio.create_task(_listen(url, headers, deadline, ready[i], received[i])) for i in range(clients)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 30)
    slow = asyncio.create_task(asyncio.to_thread(_stalled, server.port, server.tokens["read"],
                                                 time.monotonic() + seconds + 1)) if stalled else None
    await asyncio.sleep(0.5)
    cpu0, started = server.cpu_s(), time.monotonic()
    deadline[0] = started + seconds + 2.0  # the burst, then time to drain
    server.burst(rate, seconds)
    await asyncio.gather(*tasks)
    cpu = server.cpu_s() - cpu0
    wall = max(r.last for r in received) - started  # the burst until the last event arrived
    sent = int(rate * seconds)
    latencies = [x for r in received for x in r.latencies_ms]
    delivered = sum(r.events for r in received)
    figures = {"clients": clients, "events_sent": sent, "events_delivered": delivered,
               "delivered_fraction": round(delivered / (sent * clients), 4),
               "messages_per_s": round(sum(r.messages for r in received) / wall, 1),
               "events_per_s": round(delivered / wall, 1),
               "latency_p50_ms": round(percentile(latencies, 50), 2),
               "latency_p99_ms": round(percentile(latencies, 99), 2),
               "server_cpu_pct": round(100 * cpu / wall, 1),
               "server_cpu_us_per_delivered_event": round(1e6 * cpu / max(delivered, 1), 1)}
    if slow is not None:
        figures["stalled_client_close_code"] = await slow
    return figures


def test_websocket_fan_out_to_100_clients(server: Server, emit: Callable[..., None]) -> None:
    base = asyncio.run(_fan_out(server, 1))
    fan = asyncio.run(_fan_out(server, WS_CLIENTS))
    emit("api_ws_fan_out", unit="state events pushed to every client", events_per_s_generated=EVENTS_PER_S,
         **fan, **{f"baseline_{k}": v for k, v in base.items()},
         ratio_events_per_s=round(fan["events_per_s"] / base["events_per_s"], 2),
         ratio_server_cpu=round(fan["server_cpu_pct"] / max(base["server_cpu_pct"], 0.1), 2),
         ratio_latency_p99=round(fan["latency_p99_ms"] / base["latency_p99_ms"], 2),
         note="clients negotiate permessage-deflate like browsers; client and server share this machine's cores")


def test_websocket_slow_client_is_dropped(server: Server, emit: Callable[..., None]) -> None:
    """A flood bigger than the kernel's buffers, one client reading and one that stopped."""
    rate, seconds = SLOW_FLOOD
    figures = asyncio.run(_fan_out(server, 1, rate, seconds, stalled=True))
    emit("api_ws_slow_client", events_per_s_generated=rate, seconds=seconds, **figures,
         note="stalled_client_close_code 1013 = dropped as too slow while the reading client kept its stream")


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"] or len(sys.argv) != 3:
        sys.exit("usage: python -m tests.bench.test_bench_api serve DATA_DIR")
    _serve(Path(sys.argv[2]))
