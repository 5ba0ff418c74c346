"""Stream-room chat fan-out through the real stack, against a bare ``websockets`` baseline.

    .venv/bin/python bench/chat_fanout.py [--quick] [--scenarios a,b] [--json FILE]
        [--server daphne|uvicorn] [--baseline a,b] [--workers 4] [--window 20]
        [--profile DIR] [--max-seconds 2400]

Two real server processes on loopback (``daphne fair.asgi:application``, or Uvicorn with
``--server uvicorn``; production settings: DEBUG off, the Redis pub/sub channel layer,
PostgreSQL) share one Redis; clients are spread over both, so every message crosses
processes the way it does behind a load balancer. The bench keeps its own database
(``cloudfair_bench_chat`` on the server of ``DATABASE_URL``, created and migrated here) and
its own Redis key prefix, builds its data (one approved exhibitor, one live session per
room, signed-in senders with real session cookies; viewers are anonymous) and starts fresh
servers for every scenario so memory per connection is measured from a clean process.

The load generator (``bench/chat_load.py``) runs in several client processes (on uvloop when
it is installed: the generator shares the 2 cores with the servers, so it must be cheap).
Senders post ``chat.send`` at random times (uniform arrivals inside the warm-up and inside
the measured window, so a room's count is exact but nothing is lock-step), at most 4 per
user per room in any 10 s (the server allows 5), and embed their wall-clock send time;
every socket unpacks ``batch`` frames and times each ``chat.message`` on receipt. Each
scenario: connect everyone, warm up (sending, not counted), a measured window, then a drain
for late deliveries. Figures per scenario:

* ``loss_pct``: deliveries missing (every socket that joined before the window must get every
  message posted in its room during the window, by the end of the drain; sockets that drop
  during the window count as loss); ``duplicates`` apart. Refused sends (``error`` frames)
  are listed in ``rejected`` and are a bench bug, not loss.
* ``p50_ms`` / ``p95_ms`` / ``p99_ms``: send to receipt, over every delivery.
* ``deliveries_per_s``: deliveries of the window's messages per second of window.
* ``cpu_us_per_delivery``: utime + stime of both server processes over the window (from
  ``/proc/<pid>/stat``) per delivery; Redis, PostgreSQL (this database's backends) and the
  servers' threads are listed apart, and so is ``other_load_cores``: what else kept the
  machine busy during the window (figures from a busy machine are not comparable).
* ``kb_per_connection``: growth of both servers' RSS from before the first client to the
  end of the window, per connection held.
* the burst scenario: failed connects (by reason) and the handshake / ``room.joined`` times.

Baseline in the same run (``bench/chat_baseline.py``): two bare broadcast processes driven by
the same generator over the same scenarios (by default the first three; a bare process
cannot reach another's sockets, so each room stays on one of them).
``cpu_per_delivery_ratio`` is ours over the baseline's, pooled over the scenarios both ran.
The table ends with the issue's goals, pass or fail. ``--profile DIR`` samples the servers'
stacks (every thread) during the window, or the burst's connecting
(``bench/chat_profile.py``). Every server and client process is stopped on exit, on
Ctrl-C, on errors and after ``--max-seconds``; a scenario that fails is reported as such
and the others still run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import math
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from chat_load import die_with_parent, raise_fd_limit, worker_main
from harness import ROOT, free_port, manage, percentile, print_table, server_env, write_json

HERE = Path(__file__).resolve().parent
DATABASE_NAME = "cloudfair_bench_chat"
#: A sender posts at most this many messages per room in any RATE_WINDOW seconds (the server
#: refuses the 6th in 10 s; one less leaves room for timing jitter).
PER_SENDER_MAX = 4
RATE_WINDOW = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --- Scenarios -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    #: Sockets in the room, senders included (senders receive their own messages too).
    sockets: int
    #: Messages per second posted in the room (0: viewers only).
    rate: float

    @property
    def senders(self) -> int:
        if not self.rate:
            return 0
        return min(self.sockets, math.ceil(self.rate * RATE_WINDOW / PER_SENDER_MAX * 1.5))


@dataclass(frozen=True)
class Scenario:
    name: str
    rooms: tuple[tuple[int, Room], ...]  # (how many rooms, each like this)
    burst: bool = False

    @property
    def room_list(self) -> list[Room]:
        return [room for count, room in self.rooms for _ in range(count)]

    @property
    def connections(self) -> int:
        return sum(count * room.sockets for count, room in self.rooms)

    @property
    def offered_per_s(self) -> float:
        return sum(count * room.sockets * room.rate for count, room in self.rooms)


SCENARIOS = {
    "room_1000x10": Scenario("room_1000x10", ((1, Room(1000, 10)),)),
    "room_2000x10": Scenario("room_2000x10", ((1, Room(2000, 10)),)),
    "rooms_500x4x1": Scenario("rooms_500x4x1", ((500, Room(4, 1)),)),
    # Four busy rooms (24,000 deliveries/s offered) among 26,000 idle viewers.
    "held_30000": Scenario("held_30000", ((4, Room(1000, 6)), (260, Room(100, 0)))),
    # A popular session starting: 2,000 sockets open at the same instant.
    "burst_2000": Scenario("burst_2000", ((1, Room(2000, 0)),), burst=True),
}
QUICK = {
    "room_1000x10": Scenario("room_1000x10", ((1, Room(200, 10)),)),
    "room_2000x10": Scenario("room_2000x10", ((1, Room(400, 10)),)),
    "rooms_500x4x1": Scenario("rooms_500x4x1", ((50, Room(4, 1)),)),
    "held_30000": Scenario("held_30000", ((2, Room(300, 5)), (24, Room(100, 0)))),
    "burst_2000": Scenario("burst_2000", ((1, Room(300, 0)),), burst=True),
}
BASELINE_DEFAULT = ("room_1000x10", "room_2000x10", "rooms_500x4x1")


@dataclass(frozen=True)
class Goal:
    text: str
    scenario: str
    key: str
    limit: float
    at_most: bool = True


GOALS = [
    *(Goal("zero loss", name, "loss_pct", 0.0) for name in SCENARIOS if name != "burst_2000"),
    Goal("p99 <= 100 ms", "room_1000x10", "p99_ms", 100),
    Goal("p99 <= 100 ms", "rooms_500x4x1", "p99_ms", 100),
    Goal("p99 <= 250 ms", "room_2000x10", "p99_ms", 250),
    Goal("p99 <= 250 ms", "held_30000", "p99_ms", 250),
    Goal(">= 20,000 deliveries/s", "room_2000x10", "deliveries_per_s", 20000, at_most=False),
    Goal(">= 20,000 deliveries/s", "held_30000", "deliveries_per_s", 20000, at_most=False),
    Goal("<= 40 KB per connection", "held_30000", "kb_per_connection", 40),
    Goal("no failed connect in the burst", "burst_2000", "failed_connects", 0),
]


def room_schedule(rng: random.Random, room: Room, warm: float, window: float):
    """Send offsets (seconds from the start of sending) for each sender of one room:
    ``round(rate * warm)`` uniform arrivals in the warm-up, ``round(rate * window)`` in the
    window, each given to the next sender (round robin) still under its per-user limit."""
    times = sorted(rng.uniform(0, warm) for _ in range(round(room.rate * warm)))
    times += sorted(warm + rng.uniform(0, window) for _ in range(round(room.rate * window)))
    per_sender: list[list[float]] = [[] for _ in range(room.senders)]
    recent = [deque() for _ in range(room.senders)]
    turn = rng.randrange(room.senders) if room.senders else 0
    skipped = 0
    for at in times:
        for step in range(room.senders):
            sender = (turn + step) % room.senders
            while recent[sender] and at - recent[sender][0] >= RATE_WINDOW + 0.5:
                recent[sender].popleft()
            if len(recent[sender]) < PER_SENDER_MAX:
                recent[sender].append(at)
                per_sender[sender].append(round(at, 4))
                turn = sender + 1
                break
        else:
            skipped += 1
    return per_sender, skipped


# --- Processes -----------------------------------------------------------------------------


class Children:
    """Every process the bench started, stopped in ``stop_all`` whatever happens."""

    def __init__(self) -> None:
        self.servers: list[subprocess.Popen] = []
        self.workers: list[multiprocessing.Process] = []

    def stop_servers(self, grace: float = 5.0) -> None:
        for process in self.servers:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + grace
        for process in self.servers:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.servers.clear()

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
        for worker in self.workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
        self.workers.clear()

    def stop_all(self) -> None:
        self.stop_workers()
        self.stop_servers()


CHILDREN = Children()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


class RunTimeout(BaseException):
    """The whole run passed ``--max-seconds`` (not caught by a scenario's error handling)."""


def _raise_timeout(signum, frame):
    raise RunTimeout("the benchmark ran past --max-seconds")


def wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"server on port {port} did not start:\n{tail}") from None
            time.sleep(0.1)


def server_command(kind: str, port: int, args) -> list[str]:
    if kind == "baseline":
        return [sys.executable, str(HERE / "chat_baseline.py"), "--port", str(port)]
    if args.server == "uvicorn":
        command = ["-m", "uvicorn", "fair.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    elif args.backlog:
        endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog={args.backlog}"
        command = ["-m", "daphne", "-e", endpoint, "--verbosity", "0", "fair.asgi:application"]
    else:
        command = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--verbosity", "0"]
        command.append("fair.asgi:application")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        output = Path(args.profile) / f"{args.current}-{port}"
        return [sys.executable, str(HERE / "chat_profile.py"), str(output), *command[1:]]
    return [sys.executable, *command]


def start_servers(kind: str, env: dict, args, logdir: Path) -> list[tuple[int, int]]:
    """Two server processes; returns ``[(port, pid), ...]`` once both accept connections."""
    started = []
    for _ in range(2):
        port = free_port()
        log = logdir / f"{args.current}-{port}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                server_command(kind, port, args),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                preexec_fn=die_with_parent,  # noqa: PLW1509 (no threads in this process)
            )
        CHILDREN.servers.append(process)
        started.append((port, process, log))
    for port, process, log in started:
        wait_port(port, process, log)
    return [(port, process.pid) for port, process, _log in started]


# --- Measuring processes -------------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_threads_cpu(pid: int) -> tuple[float, float]:
    """(main thread, every other thread) CPU seconds: the other threads are asgiref's
    executors, where ``database_sync_to_async`` work runs."""
    main = other = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / CLK_TCK
        if int(tid) == pid:
            main += seconds
        else:
            other += seconds
    return main, other


def proc_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds, by pid, of the PostgreSQL backends serving ``database`` (other work on
    the server is left out; backends come and go: compare pid by pid, see ``cpu_delta``)."""
    seconds = {}
    needle = f" {database} ".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read()
            if not title.startswith(b"postgres: ") or needle not in title:
                continue
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[int(entry)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return seconds


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two ``postgres_cpu`` readings by the processes alive at the second
    (a process that started in between counts in full)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_busy() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Sample:
    """CPU counters at one instant: the servers (and their threads), Redis, PostgreSQL, the
    machine."""

    def __init__(self, pids: list[int], redis_client, database: str) -> None:
        self.at = time.time()
        self.servers = sum(proc_cpu(pid) for pid in pids)
        threads = [proc_threads_cpu(pid) for pid in pids]
        self.main_threads = sum(t[0] for t in threads)
        self.other_threads = sum(t[1] for t in threads)
        self.redis = 0.0
        if redis_client is not None:
            info = redis_client.info("cpu")
            self.redis = float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        self.postgres = postgres_cpu(database)
        self.busy, self.total = machine_busy()


# --- Data ----------------------------------------------------------------------------------


def database_url(args) -> str:
    """The bench's own database on the server of ``DATABASE_URL`` (never the caller's)."""
    if args.database_url:
        return args.database_url
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cloudfair"
    return urlunsplit(urlsplit(base)._replace(path=f"/{DATABASE_NAME}"))


def database_create(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()


def bench_data(*, rooms: int, senders: int) -> tuple[list[int], list[str]]:
    """One approved exhibitor with ``rooms`` live sessions (the previous run's are deleted
    with their messages) and ``senders`` + 1 signed-in buyers; returns the session ids and
    the buyers' session cookies (the last buyer warms the servers up)."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.db import connections
    from django.utils import timezone

    from buyers.services import buyer_sign_up
    from exhibitors.models import Exhibitor
    from fair.models import User
    from livestream.models import LiveSession

    exhibitor, _ = Exhibitor.objects.get_or_create(
        slug="bench-chat-fanout",
        defaults={
            "display_name": "Bench Fan-out Trading",
            "legal_name": "Bench Fan-out Trading Co., Ltd.",
            "country": "CN",
            "description": "The chat benchmark's exhibitor.",
            "status": Exhibitor.Status.APPROVED,
        },
    )
    LiveSession.objects.filter(exhibitor=exhibitor).delete()
    now = timezone.now()
    first = now - timedelta(minutes=5)
    sessions = LiveSession.objects.bulk_create(
        LiveSession(
            exhibitor=exhibitor,
            title=f"Bench room {i}",
            # One exhibitor's sessions may not overlap (an exclusion constraint).
            scheduled_start=first + timedelta(minutes=i),
            scheduled_end=first + timedelta(minutes=i + 1),
            status=LiveSession.Status.LIVE,
            started_at=now,
        )
        for i in range(rooms)
    )
    cookies = []
    for i in range(senders + 1):
        email = f"bench-chat-{i}@bench.example"
        user = User.objects.filter(email=email).first() or buyer_sign_up(
            email=email,
            password=secrets.token_urlsafe(24),
            full_name=f"Bench Buyer{i} Sender",
            company="Gulf Trading",
            country="SA",
            buyer_type="importer",
            show_identity_in_rooms=True,
        )
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={store.session_key}")
    connections.close_all()
    return [s.pk for s in sessions], cookies


# --- One scenario --------------------------------------------------------------------------


def plan_connections(scenario, kind, ports, session_ids, cookies, args, rng):
    """Each connection as ``(url, origin, cookie, room, send offsets)``, dealt round-robin to
    the client processes; ours alternate between the two servers inside each room, the
    baseline keeps each room on one."""
    per_worker: list[list[tuple]] = [[] for _ in range(args.workers)]
    skipped = 0
    counter = 0
    for index, room in enumerate(scenario.room_list):
        session_id = session_ids[index]
        schedules, missed = (
            room_schedule(rng, room, args.warmup, args.window) if room.senders else ([], 0)
        )
        skipped += missed
        for i in range(room.sockets):
            port = ports[index % 2] if kind == "baseline" else ports[i % 2]
            url = f"ws://127.0.0.1:{port}/ws/live/{session_id}/"
            origin = f"http://127.0.0.1:{port}"
            sender = i < room.senders
            connection = (
                url,
                origin,
                cookies[i] if sender else None,
                str(session_id),
                tuple(schedules[i]) if sender else (),
            )
            per_worker[counter % args.workers].append(connection)
            counter += 1
    return per_worker, skipped


async def _warm_up(ports: list[int], session_id: int, cookie: str, run: str) -> None:
    """One signed-in socket per server joins, pings and posts once: the first request to a
    process imports and connects what the measured ones then find ready."""
    from websockets.asyncio.client import connect

    for port in ports:
        async with connect(
            f"ws://127.0.0.1:{port}/ws/live/{session_id}/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": cookie},
            compression=None,
            open_timeout=30,
        ) as ws:
            await ws.send('{"type":"ping"}')
            send = {"type": "chat.send", "client_id": secrets.token_hex(8), "body": f"warm {run}"}
            await ws.send(json.dumps(send))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    frame = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
                except TimeoutError:
                    break
                if '"chat.ack"' in frame or '"chat.message"' in frame or '"error"' in frame:
                    break


def profile_toggle(pids: list[int]) -> None:
    """Switch the servers' sampling profiler on or off (``bench/chat_profile.py``)."""
    for pid in pids:
        os.kill(pid, signal.SIGUSR1)


def _recv_all(pipes, deadline: float, what: str) -> list[dict]:
    replies: list[dict | None] = [None] * len(pipes)
    while any(r is None for r in replies):
        if time.time() > deadline:
            raise TimeoutError(f"client processes did not report {what} in time")
        for i, pipe in enumerate(pipes):
            if replies[i] is None and pipe.poll(0.05):
                replies[i] = pipe.recv()
        for worker in CHILDREN.workers:
            if worker.exitcode not in (None, 0):
                raise RuntimeError(f"a client process died (exit code {worker.exitcode})")
    return replies  # type: ignore[return-value]


def _floats(chunks) -> list[float]:
    values = array("d")
    for chunk in chunks:
        values.frombytes(chunk)
    return sorted(values)


def run_scenario(scenario: Scenario, kind: str, ctx: dict, args) -> dict:
    """Fresh servers, connect, warm up, measure, drain; returns the scenario's figures."""
    args.current = f"{scenario.name}-{kind}"
    env = ctx["env"]
    session_ids = ctx["sessions"][scenario.name]
    cookies = ctx["cookies"]
    rng = random.Random(f"{ctx['run']}-{scenario.name}")
    servers = start_servers(kind, env, args, ctx["logdir"])
    ports, pids = [p for p, _ in servers], [pid for _, pid in servers]
    redis_client = ctx["redis"] if kind == "ours" else None
    try:
        if kind == "ours":
            asyncio.run(_warm_up(ports, session_ids[0], cookies[-1], ctx["run"]))
        time.sleep(1.0)
        rss_before = sum(proc_rss(pid) for pid in pids)
        per_worker, skipped = plan_connections(
            scenario, kind, ports, session_ids, cookies, args, rng
        )
        mp = multiprocessing.get_context("spawn")
        pipes = []
        for number, connections in enumerate(per_worker):
            parent_end, child_end = mp.Pipe()
            spec = {"run": ctx["run"], "worker": number, "connections": connections}
            spec["loop"] = args.client_loop
            worker = mp.Process(target=worker_main, args=(child_end, spec), daemon=True)
            worker.start()
            CHILDREN.workers.append(worker)
            pipes.append(parent_end)

        # 1. Connect.
        load_before = loadavg()
        before_connect = Sample(pids, redis_client, ctx["database"])
        timeout = 30.0 if scenario.burst else 60.0
        burst_at = time.time() + 2.0 if scenario.burst else None
        if args.profile and scenario.burst:
            profile_toggle(pids)
        connect_deadline = time.time() + 30 + scenario.connections / args.min_connect_rate
        for pipe in pipes:
            pipe.send(
                {
                    "op": "connect",
                    "timeout": timeout,
                    "burst_at": burst_at,
                    "deadline": connect_deadline,
                }
            )
        connected = _recv_all(pipes, connect_deadline + 30, "their connections")
        after_connect = Sample(pids, redis_client, ctx["database"])
        if args.profile and scenario.burst:
            profile_toggle(pids)
        rss_connected = sum(proc_rss(pid) for pid in pids)
        joined = sum(r["joined"] for r in connected)
        failures: Counter[str] = Counter()
        for report in connected:
            failures.update(report["failures"])

        # 2. Warm up, measure, drain.
        warm = args.warmup if not scenario.burst else 0.0
        window = args.window if not scenario.burst else min(args.window, 5.0)
        send_from = time.time() + 1.0
        t0 = send_from + warm
        t1 = t0 + window
        end = t1 + (args.drain if not scenario.burst else 0.5)
        go = {"op": "go", "send_from": send_from, "end": end}
        go.update(t0_ns=int(t0 * 1e9), t1_ns=int(t1 * 1e9))
        for pipe in pipes:
            pipe.send(go)
        time.sleep(max(0.0, t0 - time.time()))
        start = Sample(pids, redis_client, ctx["database"])
        if args.profile and not scenario.burst:
            profile_toggle(pids)
        time.sleep(max(0.0, t1 - time.time()))
        if args.profile and not scenario.burst:
            profile_toggle(pids)
        stop = Sample(pids, redis_client, ctx["database"])
        rss_end = sum(proc_rss(pid) for pid in pids)
        results = _recv_all(pipes, end + 60 + scenario.connections / 200, "their figures")
        load_after = loadavg()

        # 3. Stop the clients (they drop their sockets), then the servers.
        for pipe in pipes:
            pipe.send({"op": "stop"})
        with contextlib.suppress(TimeoutError, RuntimeError):
            _recv_all(pipes, time.time() + 30, "that they stopped")
    finally:
        CHILDREN.stop_workers()
        CHILDREN.stop_servers(grace=15.0 if args.profile else 5.0)

    # --- Aggregate ---
    receivers: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    rejected_codes: Counter[str] = Counter()
    rejected_ids: set[str] = set()
    sent_ids: dict[str, list[str]] = {}
    unexpected: Counter[str] = Counter()
    for result in results:
        receivers.update(result["receivers"])
        counts.update(result["counts"])
        rejected_codes.update(result["rejected"])
        rejected_ids.update(result["rejected_ids"])
        unexpected.update(result["unexpected"])
        failures.update(result["failures"])
        for room, ids in result["sent_ids"].items():
            sent_ids.setdefault(room, []).extend(ids)
    expected = received = duplicates = messages = 0
    for room, ids in sent_ids.items():
        for message_id in ids:
            if message_id in rejected_ids:
                continue
            messages += 1
            expected += receivers[room]
            got = counts.get(message_id, 0)
            received += min(got, receivers[room])
            duplicates += max(0, got - receivers[room])
    latencies = _floats(r["latencies"] for r in results)
    ack_ms = _floats(r["ack_ms"] for r in results)
    late_ms = _floats(r["late_send_ms"] for r in results)
    connect_ms = _floats(r["connect_ms"] for r in connected)
    joined_ms = _floats(r["joined_ms"] for r in connected)
    frames = sum(r["frames"] for r in results)
    events = sum(r["events"] for r in results)
    window_s = stop.at - start.at
    server_cpu = stop.servers - start.servers
    busy = (stop.busy - start.busy) / max(1, stop.total - start.total)
    client_cpu = sum(r["cpu_window_s"] for r in results)
    postgres = cpu_delta(start.postgres, stop.postgres)

    def per_delivery(seconds: float):
        return round(seconds * 1e6 / received, 2) if received else None

    def pct(values, fraction):
        return round(percentile(values, fraction), 1) if values else None

    figures = {
        "connections": joined,
        "failed_connects": scenario.connections - joined,
        "messages": messages,
        "expected": expected,
        "received": received,
        "loss_pct": round(100 * (expected - received) / expected, 3) if expected else 0.0,
        "duplicates": duplicates,
        "p50_ms": pct(latencies, 0.50),
        "p95_ms": pct(latencies, 0.95),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "deliveries_per_s": round(received / window, 1) if window else None,
        "cpu_us_per_delivery": per_delivery(server_cpu),
        "kb_per_connection": (round((rss_end - rss_before) / 1024 / joined, 1) if joined else None),
        "kb_per_connection_connected": (
            round((rss_connected - rss_before) / 1024 / joined, 1) if joined else None
        ),
        "server_rss_mb": round(rss_end / 2**20, 1),
        "server_cpu_pct": round(100 * server_cpu / window_s, 1),
        "server_thread_cpu_pct": {
            "event_loops": round(100 * (stop.main_threads - start.main_threads) / window_s, 1),
            "other_threads": round(100 * (stop.other_threads - start.other_threads) / window_s, 1),
        },
        "redis_cpu_us_per_delivery": per_delivery(stop.redis - start.redis),
        "postgres_cpu_us_per_delivery": per_delivery(postgres),
        "machine_busy_pct": round(100 * busy, 1),
        "client_cpu_pct": round(100 * client_cpu / window_s, 1),
        # Cores busy with anything but this benchmark (other work on the machine skews it).
        "other_load_cores": round(
            (stop.busy - start.busy) / CLK_TCK / window_s
            - (server_cpu + client_cpu + stop.redis - start.redis + postgres) / window_s,
            2,
        ),
        "acks_per_s": round(sum(r["acked"] for r in results) / (end - send_from), 1),
        "ack_p50_ms": pct(ack_ms, 0.50),
        "ack_p99_ms": pct(ack_ms, 0.99),
        "late_send_p99_ms": pct(late_ms, 0.99),
        "late_send_max_ms": round(late_ms[-1], 1) if late_ms else None,
        "frames_per_s": round(frames / (end - send_from), 1),
        "events_per_frame": round(events / frames, 2) if frames else None,
        "rejected": dict(rejected_codes),
        "unanswered_sends": sum(r["unanswered"] for r in results),
        "dropped_sockets": sum(r["dropped"] for r in results),
        "dropped_before_window": sum(r["dropped_before_window"] for r in results),
        "unscheduled_sends": skipped,
        "unexpected_frames": dict(unexpected),
        "failures": dict(failures),
        "connect_s": round(max(r["seconds"] for r in connected), 1),
        "connect_p50_ms": pct(connect_ms, 0.50),
        "connect_p95_ms": pct(connect_ms, 0.95),
        "connect_p99_ms": pct(connect_ms, 0.99),
        "joined_p50_ms": pct(joined_ms, 0.50),
        "joined_p95_ms": pct(joined_ms, 0.95),
        "joined_p99_ms": pct(joined_ms, 0.99),
        "connect_server_cpu_ms_per_connection": (
            round((after_connect.servers - before_connect.servers) * 1000 / joined, 3)
            if joined
            else None
        ),
        "window_s": round(window_s, 2),
        "offered_deliveries_per_s": scenario.offered_per_s,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }
    if scenario.burst:
        for key in ("loss_pct", "p50_ms", "p95_ms", "p99_ms", "deliveries_per_s"):
            figures[key] = None
    return figures


# --- Report --------------------------------------------------------------------------------

COLUMNS = [
    "connections",
    "deliveries_per_s",
    "loss_pct",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "cpu_us_per_delivery",
    "kb_per_connection",
    "failed_connects",
    "connect_p99_ms",
]


def goals_check(ours: dict[str, dict]) -> list[dict]:
    checked = []
    for goal in GOALS:
        if goal.scenario not in ours:
            continue
        value = ours[goal.scenario].get(goal.key)
        ok = value is not None and (value <= goal.limit if goal.at_most else value >= goal.limit)
        checked.append(
            {
                "goal": goal.text,
                "scenario": goal.scenario,
                "value": value,
                "limit": goal.limit,
                "pass": ok,
            }
        )
    return checked


def cpu_ratio(ours: dict[str, dict], baseline: dict[str, dict]) -> float | None:
    """Ours over the baseline's CPU per delivery, pooled over the scenarios both ran."""
    common = [
        n for n in baseline if baseline[n].get("received") and ours.get(n, {}).get("received")
    ]
    ours_cpu = sum(ours[n]["cpu_us_per_delivery"] * ours[n]["received"] for n in common)
    ours_n = sum(ours[n]["received"] for n in common)
    base_cpu = sum(baseline[n]["cpu_us_per_delivery"] * baseline[n]["received"] for n in common)
    base_n = sum(baseline[n]["received"] for n in common)
    if not ours_n or not base_n or not base_cpu:
        return None
    return round((ours_cpu / ours_n) / (base_cpu / base_n), 2)


def report(ours, baseline, ratio, goals, args) -> None:
    rows = {}
    for name, figures in ours.items():
        rows[name] = figures
        if name in baseline:
            rows[f"{name} (baseline)"] = baseline[name]
    server = "Uvicorn" if args.server == "uvicorn" else "Daphne"
    print_table(
        f"Chat fan-out: two {server} processes + Redis pub/sub + PostgreSQL, "
        f"vs a bare websockets broadcast server{' (--quick sizes)' if args.quick else ''}",
        rows,
        COLUMNS,
    )
    print(f"\nCPU per delivery, ours / baseline: {ratio if ratio is not None else 'n/a'} (pooled)")
    for name, figures in ours.items():
        if "cpu_ratio_vs_baseline" in figures:
            print(f"  {name}: {figures['cpu_ratio_vs_baseline']}")
    note = " (--quick sizes: for orientation only)" if args.quick else ""
    print(f"\nGoals (issue 5, performance){note}:")
    for goal in goals:
        verdict = "PASS" if goal["pass"] else "FAIL"
        print(f"  {verdict}  {goal['scenario']:<15} {goal['goal']:<36} measured {goal['value']}")
    print("\nDetails per scenario (ours):")
    for name, figures in ours.items():
        if "error" in figures:
            print(f"  {name}: failed: {figures['error']}")
            continue
        print(
            f"  {name}: server CPU {figures['server_cpu_pct']}% of a core "
            f"(threads {figures['server_thread_cpu_pct']}), redis "
            f"{figures['redis_cpu_us_per_delivery']} us/delivery, postgres "
            f"{figures['postgres_cpu_us_per_delivery']} us/delivery, machine busy "
            f"{figures['machine_busy_pct']}%, clients {figures['client_cpu_pct']}%, "
            f"events/frame {figures['events_per_frame']}, ack p50/p99 "
            f"{figures['ack_p50_ms']}/{figures['ack_p99_ms']} ms, rejected "
            f"{figures['rejected']}, unanswered {figures['unanswered_sends']}, "
            f"failures {figures['failures']}, load {figures['loadavg_before']} -> "
            f"{figures['loadavg_after']}"
        )


# --- Main ----------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, short windows")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument(
        "--baseline",
        default=",".join(BASELINE_DEFAULT),
        help="scenarios to run on the bare baseline too ('' for none)",
    )
    parser.add_argument(
        "--skip-ours", action="store_true", help="run the baseline only (checks the generator)"
    )
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument(
        "--client-loop",
        choices=["uvloop", "asyncio"],
        default="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        help="event loop of the client processes (default: uvloop when installed)",
    )
    parser.add_argument("--warmup", type=float, help="seconds of sending before the window")
    parser.add_argument("--window", type=float, help="measured seconds")
    parser.add_argument("--drain", type=float, help="seconds for late deliveries")
    parser.add_argument(
        "--backlog", type=int, help="Daphne listen backlog (default: Twisted's, as deployed)"
    )
    parser.add_argument("--database-url", help=f"default: DATABASE_URL's server, {DATABASE_NAME}")
    parser.add_argument("--redis-url", help="default: REDIS_URL or redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--profile",
        help="sample the servers' stacks during the window (bench/chat_profile.py); reports here",
    )
    parser.add_argument(
        "--min-connect-rate",
        type=float,
        default=60.0,
        help="connects/s below which a scenario's ramp is cut short (its sockets count failed)",
    )
    parser.add_argument("--max-seconds", type=int, default=2400, help="hard bound on the run")
    args = parser.parse_args(argv)
    if args.server == "uvicorn" and importlib.util.find_spec("uvicorn") is None:
        parser.error("--server uvicorn needs Uvicorn: .venv/bin/pip install uvicorn")
    if args.warmup is None:
        args.warmup = 2.0 if args.quick else 5.0
    if args.window is None:
        args.window = 6.0 if args.quick else 20.0
    if args.drain is None:
        args.drain = 3.0 if args.quick else 5.0
    table = QUICK if args.quick else SCENARIOS
    names = [n.strip() for n in (args.scenarios or ",".join(table)).split(",") if n.strip()]
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    args.selected = [table[n] for n in names]
    args.baseline_names = [
        n.strip() for n in args.baseline.split(",") if n.strip() and n.strip() in names
    ]
    args.current = "setup"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(args.max_seconds)
    raise_fd_limit()
    run = secrets.token_hex(4)
    db_url = database_url(args)
    redis_url = args.redis_url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    prefix = f"benchchat{run}"
    env = server_env(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=prefix,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",  # a server's last words reach its log before it is stopped
    )
    logdir = Path(tempfile.mkdtemp(prefix="chat-fanout-"))
    print(f"chat_fanout: run {run}, database {urlsplit(db_url).path.lstrip('/')}, redis "
          f"{redis_url} prefix {prefix}, logs {logdir}, load {loadavg()}", flush=True)  # fmt: skip
    import redis

    redis_client = redis.Redis.from_url(redis_url)
    ours: dict[str, dict] = {}
    baseline: dict[str, dict] = {}
    try:
        database_create(db_url)
        manage("migrate", "--noinput", env=env)
        os.environ.update(env)
        import django

        django.setup()
        total_rooms = sum(len(s.room_list) for s in args.selected)
        senders = max((r.senders for s in args.selected for r in s.room_list), default=1)
        session_ids, cookies = bench_data(rooms=total_rooms, senders=max(senders, 1))
        sessions, offset = {}, 0
        for scenario in args.selected:
            sessions[scenario.name] = session_ids[offset : offset + len(scenario.room_list)]
            offset += len(scenario.room_list)
        ctx = {
            "env": env,
            "run": run,
            "sessions": sessions,
            "cookies": cookies,
            "logdir": logdir,
            "redis": redis_client,
            "database": urlsplit(db_url).path.lstrip("/"),
        }
        for scenario in args.selected:
            for kind in ("ours", "baseline"):
                if kind == "baseline" and scenario.name not in args.baseline_names:
                    continue
                if kind == "ours" and args.skip_ours:
                    continue
                label = "baseline" if kind == "baseline" else args.server
                print(f"== {scenario.name} ({label}, {scenario.connections} sockets)", flush=True)
                try:
                    figures = run_scenario(scenario, kind, ctx, args)
                except (TimeoutError, RuntimeError, OSError) as exc:
                    # One scenario failing (a server that did not start, clients that did
                    # not report in time) must not lose the others' figures.
                    print(f"   failed: {exc}", flush=True)
                    (ours if kind == "ours" else baseline)[scenario.name] = {"error": str(exc)}
                    continue
                (ours if kind == "ours" else baseline)[scenario.name] = figures
                print(
                    f"   {figures['connections']} joined, {figures['deliveries_per_s']}/s, "
                    f"loss {figures['loss_pct']}%, p99 {figures['p99_ms']} ms, "
                    f"{figures['cpu_us_per_delivery']} us/delivery, "
                    f"{figures['kb_per_connection']} KB/conn, load {loadavg()}",
                    flush=True,
                )
    except (KeyboardInterrupt, RunTimeout) as exc:
        print(f"\nchat_fanout: {exc or 'interrupted'}; stopping every process.", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
        CHILDREN.stop_all()
        with contextlib.suppress(Exception):
            for key in redis_client.scan_iter(f"{prefix}*", count=1000):
                redis_client.delete(key)
    ratio = cpu_ratio(ours, baseline)
    for name, figures in ours.items():
        base = baseline.get(name, {}).get("cpu_us_per_delivery")
        if base and figures.get("cpu_us_per_delivery"):
            figures["cpu_ratio_vs_baseline"] = round(figures["cpu_us_per_delivery"] / base, 2)
    goals = goals_check(ours)
    if ratio is not None:
        goals.append(
            {
                "goal": "CPU/delivery <= 3x baseline",
                "scenario": "pooled",
                "scenarios": [n for n in baseline if n in ours],
                "value": ratio,
                "limit": 3,
                "pass": ratio <= 3,
            }
        )
    report(ours, baseline, ratio, goals, args)
    write_json(
        args.json_path,
        ours,
        baseline=baseline,
        cpu_per_delivery_ratio=ratio,
        goals=goals,
        quick=args.quick,
        server=args.server,
        config={
            "workers": args.workers,
            "warmup_s": args.warmup,
            "window_s": args.window,
            "drain_s": args.drain,
            "backlog": args.backlog,
            "client_loop": args.client_loop,
            "cores": os.cpu_count(),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
