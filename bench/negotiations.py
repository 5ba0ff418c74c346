"""One-to-one negotiation rooms through the real stack, against a bare ``websockets`` relay.

    .venv/bin/python bench/negotiations.py [--quick] [--scenarios rooms_500,rooms_100,rooms_50]
        [--json FILE] [--baseline rooms_500,rooms_100] [--rate 1] [--workers 2] [--window 12]
        [--unbatched rooms_500] [--profile DIR] [--no-email-tasks] [--uvloop]
        [--max-seconds 480]

Each room has exactly one buyer socket and one staff socket (500 rooms: 500 buyers, 500
approved exhibitors with one staff member each, 1,000 sockets on ``/ws/negotiations/``),
and each socket posts ``nego.send`` in its room about once a second, at Poisson-random
times drawn per socket (never lock-step): 1,000 messages per second stored and delivered
for 500 rooms; ``rooms_100`` (200/s) and ``rooms_50`` (100/s) show how it scales. Two
real Daphne processes on loopback (production settings: DEBUG off, the Redis pub/sub
channel layer, PostgreSQL) share one Redis; a room's buyer and its staff member sit on
different processes, so every delivery to the other party crosses processes the way it
does behind a load balancer. The servers run with ``NEGO_MESSAGES_PER_MINUTE``
600 (the per-user limit is not what is measured); the offline-email task they queue goes
to a queue of this run that no worker reads, and is deleted at the end (the first message
of each room queues one; ``--no-email-tasks`` claims every room's slot first so none is).

The bench keeps its own database (``cloudfair_bench_nego`` on the server of
``DATABASE_URL``, created and migrated here), builds its data in bulk (reused between runs;
the previous run's messages are truncated so every run starts from the same tables), signs
every user in with a real session cookie, and starts fresh servers for every scenario. The
load generator (``bench/nego_load.py``) runs in a few client processes on uvloop. Each
scenario: connect everyone, warm up (sending, not counted), a measured window, a drain for
late deliveries. Figures per scenario:

* ``loss_pct``: messages posted in the window (and not refused) that did not reach the
  other party's socket by the end of the drain; ``acked_not_delivered`` is the part of them
  the server had acknowledged (stored), ``unanswered`` sends got neither ack nor error.
  Refused sends (``error`` frames, e.g. ``rate_limited``) are listed in ``rejected``: a
  bench bug, not loss. ``misdelivered`` counts messages that reached a socket of another
  room (must be 0).
* ``p50_ms`` / ``p95_ms`` / ``p99_ms`` / ``max_ms``: send to delivery on the other side
  (the send time is embedded in the body; the database write is inside it); ``ack_*`` send
  to ``nego.ack``. ``echoes``: copies that came back to the sending socket (ours sends
  none: the ack carries what the sender needs; the bare relay echoes, ``echo_p99_ms``).
* ``server_cpu_us_per_msg``: utime + stime of both server processes over the window (from
  ``/proc``) per stored message, split into ``event_loops`` and ``other_threads`` (asgiref's
  database thread); ``postgres_`` / ``redis_cpu_us_per_msg`` apart, and
  ``stack_cpu_us_per_msg`` all three together; ``other_load_cores``: what else kept the
  machine busy during the window (figures from a busy machine are not comparable).

Baseline in the same run (``bench/nego_baseline.py``): two bare relay processes driven by
the same generator (no database, no channel layer; both parties of a room on one process).
``cpu_ratio`` is ours over the baseline's server CPU per message. ``--unbatched`` (default
the 500 rooms) runs the same servers with every send stored alone
(``NEGO_SEND_BATCH_MAX=1``: one transaction and one rate-limit call per message, as before
``negotiations/send_batch.py``), reported as "each send alone". The table ends with the
issue's goals (p99 <= 50 ms and zero loss at 500 rooms), pass or fail, and the load average.
``--uvloop`` runs Daphne on uvloop through ``fair/serve.py``, as the container image does
(without it: plain ``daphne`` on asyncio's own loop, as ``make demo`` does).
``--profile DIR`` runs the first server under cProfile during the window
(``bench/nego_profile.py``; the event loop and the database thread apart); a profiled run's
latencies are not figures. Every server and client process is stopped on exit, on Ctrl-C,
on errors and after ``--max-seconds``; a scenario that fails is reported and the others
still run."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import multiprocessing
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from chat_fanout import (
    CHILDREN,
    CLK_TCK,
    RunTimeout,
    Sample,
    _floats,
    _raise_interrupt,
    _raise_timeout,
    _recv_all,
    cpu_delta,
    database_create,
    loadavg,
    proc_rss,
    profile_toggle,
    wait_port,
)
from chat_load import die_with_parent, raise_fd_limit
from harness import ROOT, free_port, manage, percentile, print_table, server_env, write_json
from nego_load import worker_main

HERE = Path(__file__).resolve().parent
DATABASE_NAME = "cloudfair_bench_nego"
#: Messages a socket posts per second (a Poisson process; ``--rate`` changes it).
RATE = 1.0
#: The per-user limit the servers run with (the default, 60, would cut a long run short).
MESSAGES_PER_MINUTE = 600
P99_GOAL_MS = 50.0


@dataclass(frozen=True)
class Scenario:
    name: str
    rooms: int

    @property
    def sockets(self) -> int:
        return 2 * self.rooms


SCENARIOS = {
    "rooms_500": Scenario("rooms_500", 500),
    "rooms_100": Scenario("rooms_100", 100),
    "rooms_50": Scenario("rooms_50", 50),
}
QUICK = {
    "rooms_500": Scenario("rooms_200", 200),
    "rooms_100": Scenario("rooms_50", 50),
    "rooms_50": Scenario("rooms_20", 20),
}
#: Run on the bare relay too by default (the smallest only shows where ours keeps up).
BASELINE_DEFAULT = ("rooms_500", "rooms_100")
#: The scenario the issue's goals are checked on (the others: zero loss).
MAIN = "rooms_500"


# --- Data ----------------------------------------------------------------------------------


def database_url(args) -> str:
    """The bench's own database on the server of ``DATABASE_URL`` (never the caller's)."""
    if args.database_url:
        return args.database_url
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cloudfair"
    return urlunsplit(urlsplit(base)._replace(path=f"/{DATABASE_NAME}"))


def pg_counters(url: str) -> dict[str, int]:
    """This database's cumulative counters (``pg_stat_database``: backends flush them at
    most once a second, so deltas over a window are good to about a second's worth)."""
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xact_commit, xact_rollback, sessions, tup_inserted, tup_updated,"
                " tup_returned + tup_fetched FROM pg_stat_database"
                " WHERE datname = current_database()"
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    keys = ("commits", "rollbacks", "sessions", "inserted", "updated", "rows_read")
    return dict(zip(keys, row, strict=True))


def stored_between(t0: float, t1: float) -> int:
    """Messages the servers stored between two wall-clock instants (their throughput,
    whatever reached the clients)."""
    from datetime import UTC, datetime

    from django.db import connections

    from negotiations.models import Message

    count = Message.objects.filter(
        created_at__gte=datetime.fromtimestamp(t0, UTC),
        created_at__lt=datetime.fromtimestamp(t1, UTC),
    ).count()
    connections.close_all()
    return count


@dataclass(frozen=True)
class Room:
    id: int
    buyer_id: int
    staff_id: int
    buyer_cookie: str
    staff_cookie: str


def bench_data(*, rooms: int) -> list[Room]:
    """``rooms`` buyers, approved exhibitors with one staff member (owner) each, and one room
    per pair, created in bulk and kept between runs; every message of earlier runs is
    truncated (this database is the bench's own) and the rooms' counters reset. Each user
    gets a fresh session (the servers' secret key is new every run; old ones are dropped)."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import connection, connections
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from buyers.models import BuyerProfile
    from exhibitors.models import Exhibitor, ExhibitorMember
    from fair.models import User
    from negotiations.models import Message, Negotiation

    password = make_password(secrets.token_urlsafe(24))  # one hash: nobody signs in with it
    emails = [f"bench-nego-buyer-{i}@bench.example" for i in range(rooms)]
    emails += [f"bench-nego-staff-{i}@bench.example" for i in range(rooms)]
    User.objects.bulk_create(
        [
            User(
                email=email,
                full_name=f"Bench {'Buyer' if 'buyer' in email else 'Sales'} {email.split('-')[3]}",
                password=password,
            )
            for email in emails
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    buyers = [users[f"bench-nego-buyer-{i}@bench.example"] for i in range(rooms)]
    staff = [users[f"bench-nego-staff-{i}@bench.example"] for i in range(rooms)]
    BuyerProfile.objects.bulk_create(
        [
            BuyerProfile(user=u, company="Gulf Trading", country="SA", buyer_type="importer")
            for u in buyers
        ],
        ignore_conflicts=True,
    )
    slugs = [f"bench-nego-{i}" for i in range(rooms)]
    Exhibitor.objects.bulk_create(
        [
            Exhibitor(
                slug=slug,
                display_name=f"Bench Negotiation Trading {i}",
                legal_name=f"Bench Negotiation Trading {i} Co., Ltd.",
                country="CN",
                description="The negotiation benchmark's exhibitor.",
                status=Exhibitor.Status.APPROVED,
            )
            for i, slug in enumerate(slugs)
        ],
        ignore_conflicts=True,
    )
    exhibitors = {e.slug: e for e in Exhibitor.objects.filter(slug__in=slugs)}
    Exhibitor.objects.filter(slug__in=slugs).update(status=Exhibitor.Status.APPROVED)
    ExhibitorMember.objects.bulk_create(
        [
            ExhibitorMember(
                exhibitor=exhibitors[slugs[i]], user=staff[i], role=ExhibitorMember.Role.OWNER
            )
            for i in range(rooms)
        ],
        ignore_conflicts=True,
    )
    Negotiation.objects.bulk_create(
        [Negotiation(buyer=buyers[i], exhibitor=exhibitors[slugs[i]]) for i in range(rooms)],
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{Message._meta.db_table}" CASCADE')
        cursor.execute(f'TRUNCATE "{Session._meta.db_table}"')
    by_pair = {
        (n.buyer_id, n.exhibitor_id): n.pk
        for n in Negotiation.objects.filter(buyer__in=buyers).only("pk", "buyer", "exhibitor")
    }
    Negotiation.objects.filter(pk__in=by_pair.values()).update(
        status=Negotiation.Status.OPEN,
        last_seq=0,
        buyer_last_read_seq=0,
        exhibitor_last_read_seq=0,
        last_speaker="",
        buyer_first_message_at=None,
        first_reply_seconds=None,
        last_message_at=timezone.now(),
    )

    store = SessionStore()
    expires = timezone.now() + timedelta(hours=2)
    sessions, cookies = [], {}
    for user in [*buyers, *staff]:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        cookies[user.pk] = f"{settings.SESSION_COOKIE_NAME}={key}"
    Session.objects.bulk_create(sessions, batch_size=1000)
    result = [
        Room(
            id=by_pair[(buyers[i].pk, exhibitors[slugs[i]].pk)],
            buyer_id=buyers[i].pk,
            staff_id=staff[i].pk,
            buyer_cookie=cookies[buyers[i].pk],
            staff_cookie=cookies[staff[i].pk],
        )
        for i in range(rooms)
    ]
    connections.close_all()
    return result


# --- Servers -------------------------------------------------------------------------------


def start_servers(kind: str, env: dict, args, logdir: Path) -> list[tuple[int, int]]:
    """Two server processes (Daphne, or the bare relay); returns ``[(port, pid), ...]`` once
    both accept connections. With ``--profile`` the first Daphne runs under cProfile."""
    started = []
    for number in range(2):
        port = free_port()
        if kind == "baseline":
            command = [sys.executable, str(HERE / "nego_baseline.py"), "--port", str(port)]
        else:
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
            if args.uvloop:
                command[1:3] = ["-m", "fair.serve"]
            command += ["--verbosity", "0", "fair.asgi:application"]
            if args.profile and number == 0:
                Path(args.profile).mkdir(parents=True, exist_ok=True)
                output = str(Path(args.profile).resolve() / f"{args.current}-{port}")
                command = [sys.executable, str(HERE / "nego_profile.py"), output, *command[2:]]
        log = logdir / f"{args.current}-{port}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                command,
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


# --- One scenario --------------------------------------------------------------------------


def poisson(rng: random.Random, rate: float, until: float) -> tuple[float, ...]:
    """Send offsets of one socket: a Poisson process of ``rate`` per second on [0, until)."""
    offsets, at = [], rng.expovariate(rate)
    while at < until:
        offsets.append(round(at, 4))
        at += rng.expovariate(rate)
    return tuple(offsets)


def plan_connections(scenario: Scenario, kind: str, ports, rooms: list[Room], args, rng):
    """Each socket as ``(url, origin, cookie, room, side, send offsets)``, dealt round-robin
    to the client processes. Ours: a room's buyer and staff member on different servers;
    the baseline: both on the same one (it has no path between processes)."""
    per_worker: list[list[tuple]] = [[] for _ in range(args.workers)]
    until = args.warmup + args.window
    counter = 0
    for index, room in enumerate(rooms[: scenario.rooms]):
        parties = (("b", "buyer", room.buyer_id, room.buyer_cookie),)
        parties += (("e", "exhibitor", room.staff_id, room.staff_cookie),)
        for number, (side, side_name, user_id, cookie) in enumerate(parties):
            port = ports[index % 2] if kind == "baseline" else ports[(index + number) % 2]
            origin = f"http://127.0.0.1:{port}"
            url = f"ws://127.0.0.1:{port}/ws/negotiations/"
            if kind == "baseline":
                url += f"?rooms={room.id}&side={side_name}&user={user_id}"
                cookie = None
            connection = (url, origin, cookie, str(room.id), side, poisson(rng, args.rate, until))
            per_worker[counter % args.workers].append(connection)
            counter += 1
    return per_worker


def run_scenario(scenario: Scenario, kind: str, ctx: dict, args) -> dict:
    """Fresh servers, connect, warm up, measure, drain; returns the scenario's figures."""
    args.current = f"{scenario.name}-{kind}"
    rng = random.Random(f"{ctx['run']}-{scenario.name}")
    env = ctx["env"] if kind != "unbatched" else {**ctx["env"], "NEGO_SEND_BATCH_MAX": "1"}
    servers = start_servers(kind, env, args, ctx["logdir"])
    ports, pids = [p for p, _ in servers], [pid for _, pid in servers]
    redis_client = ctx["redis"] if kind != "baseline" else None
    profiled = pids[:1] if args.profile and kind == "ours" else []
    try:
        time.sleep(1.0)
        rss_before = sum(proc_rss(pid) for pid in pids)
        per_worker = plan_connections(scenario, kind, ports, ctx["rooms"], args, rng)
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
        connect_deadline = time.time() + 30 + scenario.sockets / 50
        for pipe in pipes:
            pipe.send({"op": "connect", "timeout": 30.0, "deadline": connect_deadline})
        connected = _recv_all(pipes, connect_deadline + 30, "their connections")
        ready = sum(r["ready"] for r in connected)
        failures: Counter[str] = Counter()
        for report in connected:
            failures.update(report["failures"])

        # 2. Warm up, measure, drain.
        send_from = time.time() + 1.0
        t0 = send_from + args.warmup
        t1 = t0 + args.window
        end = t1 + args.drain
        go = {"op": "go", "send_from": send_from, "end": end}
        go.update(t0_ns=int(t0 * 1e9), t1_ns=int(t1 * 1e9))
        for pipe in pipes:
            pipe.send(go)
        time.sleep(max(0.0, t0 - time.time()))
        start = Sample(pids, redis_client, ctx["database"])
        pg_start = pg_counters(ctx["database_url"]) if kind != "baseline" else None
        if profiled:
            profile_toggle(profiled)
        time.sleep(max(0.0, t1 - time.time()))
        if profiled:
            profile_toggle(profiled)
        stop = Sample(pids, redis_client, ctx["database"])
        pg_stop = pg_counters(ctx["database_url"]) if kind != "baseline" else None
        rss_end = sum(proc_rss(pid) for pid in pids)
        results = _recv_all(pipes, end + 60, "their figures")
        load_after = loadavg()

        # 3. Stop the clients (they drop their sockets), then the servers.
        for pipe in pipes:
            pipe.send({"op": "stop"})
        with contextlib.suppress(TimeoutError, RuntimeError):
            _recv_all(pipes, time.time() + 30, "that they stopped")
    finally:
        CHILDREN.stop_workers()
        CHILDREN.stop_servers(grace=20.0 if profiled else 5.0)
    held = {"rss_before": rss_before, "rss_end": rss_end, "rate": args.rate}
    if kind != "baseline":
        held["stored"] = stored_between(start.at, stop.at)
        held["pg"] = {k: pg_stop[k] - pg_start[k] for k in pg_stop}
    held.update(load_before=load_before, load_after=load_after)
    return aggregate(scenario, kind, results, start, stop, ready, failures, held)


def aggregate(scenario, kind, results, start, stop, ready, failures, held) -> dict:
    """The scenario's figures from the client processes' reports and the CPU samples."""
    sent: list[str] = []
    acked: set[str] = set()
    rejected_ids: set[str] = set()
    unanswered: set[str] = set()
    delivered: Counter[str] = Counter()
    echoed: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    for result in results:
        sent.extend(result["sent_ids"])
        acked.update(result["acked_ids"])
        rejected_ids.update(result["rejected_ids"])
        unanswered.update(result["unanswered_ids"])
        delivered.update(result["delivered"])
        echoed.update(result["echoed"])
        rejected.update(result["rejected"])
        unexpected.update(result["unexpected"])
        failures.update(result["failures"])
    expected = [m for m in sent if m not in rejected_ids]
    lost = [m for m in expected if not delivered.get(m)]
    echo_lost = sum(1 for m in expected if not echoed.get(m))
    latencies = _floats(r["latencies"] for r in results)
    by_second: dict[int, list[float]] = {}
    for result in results:
        values, at = array("d"), array("d")
        values.frombytes(result["latencies"])
        at.frombytes(result["latency_at"])
        for latency, offset in zip(values, at, strict=True):
            by_second.setdefault(int(offset), []).append(latency)
    ack_ms = _floats(r["ack_ms"] for r in results)
    echo_ms = _floats(r["echo_ms"] for r in results)
    late_ms = _floats(r["late_send_ms"] for r in results)
    window_s = stop.at - start.at
    server_cpu = stop.servers - start.servers
    postgres = cpu_delta(start.postgres, stop.postgres)
    redis = stop.redis - start.redis
    client_cpu = sum(r["cpu_window_s"] for r in results)
    # Ours: what the servers stored during the window (from the database); the relay: acks.
    stored = held.get("stored", len([m for m in expected if m in acked]))

    def pct(values, fraction):
        return round(percentile(values, fraction), 1) if values else None

    def per_message(seconds: float):
        return round(seconds * 1e6 / stored, 1) if stored else None

    return {
        "rooms": scenario.rooms,
        "sockets": ready,
        "failed_connects": scenario.sockets - ready,
        "messages": len(expected),
        "messages_per_s": round(len(expected) / window_s, 1),
        "offered_per_s": round(scenario.sockets * held["rate"], 1),
        "stored_per_s": round(stored / window_s, 1),
        "delivered": len(expected) - len(lost),
        "loss_pct": round(100 * len(lost) / len(expected), 3) if expected else 0.0,
        "acked_not_delivered": sum(1 for m in lost if m in acked),
        "unanswered": len(unanswered),
        "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
        "misdelivered": sum(r["misdelivered"] for r in results),
        "echoes": sum(echoed.values()),
        "echo_loss_pct": round(100 * echo_lost / len(expected), 3) if expected else 0.0,
        "p50_ms": pct(latencies, 0.50),
        "p95_ms": pct(latencies, 0.95),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "mean_ms": round(sum(latencies) / len(latencies), 1) if latencies else None,
        # Stalls show here: p99 of the messages sent in each second of the window.
        "p99_ms_by_second": [pct(sorted(by_second[second]), 0.99) for second in sorted(by_second)],
        "ack_p50_ms": pct(ack_ms, 0.50),
        "ack_p95_ms": pct(ack_ms, 0.95),
        "ack_p99_ms": pct(ack_ms, 0.99),
        "echo_p99_ms": pct(echo_ms, 0.99),
        "late_send_p99_ms": pct(late_ms, 0.99),
        "server_cpu_us_per_msg": per_message(server_cpu),
        "server_cpu_pct": round(100 * server_cpu / window_s, 1),
        "server_thread_cpu_pct": {
            "event_loops": round(100 * (stop.main_threads - start.main_threads) / window_s, 1),
            "other_threads": round(100 * (stop.other_threads - start.other_threads) / window_s, 1),
        },
        "postgres_cpu_us_per_msg": per_message(postgres) if kind != "baseline" else None,
        "redis_cpu_us_per_msg": per_message(redis) if kind != "baseline" else None,
        "stack_cpu_us_per_msg": per_message(server_cpu + postgres + redis),
        "postgres_per_msg": (
            {k: round(v / stored, 2) for k, v in held["pg"].items() if k != "sessions"}
            if "pg" in held and stored
            else None
        ),
        "postgres_sessions_opened": held["pg"]["sessions"] if "pg" in held else None,
        "client_cpu_pct": round(100 * client_cpu / window_s, 1),
        "machine_busy_pct": round(
            100 * (stop.busy - start.busy) / max(1, stop.total - start.total), 1
        ),
        "other_load_cores": round(
            (stop.busy - start.busy) / CLK_TCK / window_s
            - (server_cpu + client_cpu + redis + postgres) / window_s,
            2,
        ),
        "server_rss_mb": round(held["rss_end"] / 2**20, 1),
        "server_rss_growth_mb": round((held["rss_end"] - held["rss_before"]) / 2**20, 1),
        "rejected": dict(rejected),
        "unexpected_frames": dict(unexpected),
        "foreign_frames": sum(r["foreign"] for r in results),
        "dropped_sockets": sum(r["dropped"] for r in results),
        "failures": dict(failures),
        "window_s": round(window_s, 2),
        "loadavg_before": held["load_before"],
        "loadavg_after": held["load_after"],
    }


# --- Report --------------------------------------------------------------------------------

COLUMNS = [
    "sockets",
    "messages_per_s",
    "stored_per_s",
    "loss_pct",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "ack_p99_ms",
    "server_cpu_us_per_msg",
    "stack_cpu_us_per_msg",
    "other_load_cores",
]


def goals_check(ours: dict[str, dict], main_name: str) -> list[dict]:
    checked = []
    for name, figures in ours.items():
        if "error" in figures:
            checked.append({"goal": "ran", "scenario": name, "value": None, "pass": False})
            continue
        goals = [("zero loss", "loss_pct", 0.0), ("nothing misdelivered", "misdelivered", 0)]
        if name == main_name:
            goals.append((f"p99 <= {P99_GOAL_MS:g} ms", "p99_ms", P99_GOAL_MS))
        for text, key, limit in goals:
            value = figures.get(key)
            checked.append(
                {
                    "goal": text,
                    "scenario": name,
                    "value": value,
                    "limit": limit,
                    "pass": value is not None and value <= limit,
                }
            )
    return checked


def report(ours, baseline, ratios, goals, args, unbatched) -> None:
    rows = {}
    for name, figures in ours.items():
        rows[name] = figures
        if name in unbatched:
            rows[f"{name} (each send alone)"] = unbatched[name]
        if name in baseline:
            rows[f"{name} (baseline)"] = baseline[name]
    print_table(
        "Negotiations: two Daphne processes + Redis pub/sub + PostgreSQL, vs a bare "
        f"websockets relay{' (--quick sizes)' if args.quick else ''}",
        rows,
        COLUMNS,
    )
    print(f"\nServer CPU per message, ours / baseline: {ratios or 'n/a'}")
    note = " (--quick sizes: for orientation only)" if args.quick else ""
    print(f"\nGoals (issue 6, performance){note}:")
    for goal in goals:
        verdict = "PASS" if goal["pass"] else "FAIL"
        print(f"  {verdict}  {goal['scenario']:<10} {goal['goal']:<22} measured {goal['value']}")
    print("\nDetails per scenario:")
    for name, figures in rows.items():
        if "error" in figures:
            print(f"  {name}: failed: {figures['error']}")
            continue
        print(
            f"  {name}: server CPU {figures['server_cpu_pct']}% of a core (threads "
            f"{figures['server_thread_cpu_pct']}), postgres "
            f"{figures['postgres_cpu_us_per_msg']} us/msg, redis "
            f"{figures['redis_cpu_us_per_msg']} us/msg, machine busy "
            f"{figures['machine_busy_pct']}%, clients {figures['client_cpu_pct']}%, ack p50/p95 "
            f"{figures['ack_p50_ms']}/{figures['ack_p95_ms']} ms, echoes "
            f"{figures['echoes']} (p99 {figures['echo_p99_ms']} ms), postgres per message "
            f"{figures['postgres_per_msg']}"
            f", late sends p99 {figures['late_send_p99_ms']} ms, "
            f"acked not delivered {figures['acked_not_delivered']}, unanswered "
            f"{figures['unanswered']}, duplicates {figures['duplicates']}, misdelivered "
            f"{figures['misdelivered']}, rejected {figures['rejected']}, failures "
            f"{figures['failures']}, p99 by second {figures['p99_ms_by_second']}, load "
            f"{figures['loadavg_before']} -> "
            f"{figures['loadavg_after']}"
        )


# --- Main ----------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="fewer rooms, short windows")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument(
        "--baseline",
        default=",".join(BASELINE_DEFAULT),
        help="scenarios to run on the bare relay too ('' for none)",
    )
    parser.add_argument(
        "--rate", type=float, default=RATE, help="messages per second per socket (default 1)"
    )
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument(
        "--client-loop",
        choices=["uvloop", "asyncio"],
        default="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
    )
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="run Daphne on uvloop (fair/serve.py, what the container image runs)",
    )
    parser.add_argument("--warmup", type=float, help="seconds of sending before the window")
    parser.add_argument("--window", type=float, help="measured seconds")
    parser.add_argument("--drain", type=float, help="seconds for late deliveries")
    parser.add_argument("--database-url", help=f"default: DATABASE_URL's server, {DATABASE_NAME}")
    parser.add_argument("--redis-url", help="default: REDIS_URL or redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--profile", help="cProfile the first server during the window; reports in this folder"
    )
    parser.add_argument(
        "--no-email-tasks",
        action="store_true",
        help="claim every room's offline-email slot first: no Celery task is queued in the run",
    )
    parser.add_argument(
        "--unbatched",
        default=MAIN,
        help="scenarios to run also with every send stored alone (NEGO_SEND_BATCH_MAX=1, "
        "as before batching; '' for none)",
    )
    parser.add_argument("--max-seconds", type=int, default=480, help="hard bound on the run")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = 2.0 if args.quick else 4.0
    if args.window is None:
        args.window = 5.0 if args.quick else 12.0
    if args.drain is None:
        args.drain = 2.0 if args.quick else 3.0
    table = QUICK if args.quick else SCENARIOS
    names = [n.strip() for n in (args.scenarios or ",".join(SCENARIOS)).split(",") if n.strip()]
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    args.selected = [table[n] for n in names]
    args.main_name = table[MAIN].name
    args.baseline_names = {
        table[n.strip()].name for n in args.baseline.split(",") if n.strip() in names
    }
    args.unbatched_names = {
        table[n.strip()].name for n in args.unbatched.split(",") if n.strip() in names
    }
    args.current = "setup"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(args.max_seconds)
    raise_fd_limit()
    started = time.monotonic()
    run = secrets.token_hex(4)
    db_url = database_url(args)
    redis_url = args.redis_url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    prefix = f"benchnego{run}"
    env = server_env(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=prefix,
        # The offline-email task goes to this run's own queue (no worker reads it).
        CELERY_TASK_DEFAULT_QUEUE=prefix,
        NEGO_MESSAGES_PER_MINUTE=str(max(MESSAGES_PER_MINUTE, int(args.rate * 90))),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    logdir = Path(tempfile.mkdtemp(prefix="nego-bench-"))
    print(f"negotiations: run {run}, database {urlsplit(db_url).path.lstrip('/')}, redis "
          f"{redis_url} prefix {prefix}, logs {logdir}, load {loadavg()}", flush=True)  # fmt: skip
    import redis

    redis_client = redis.Redis.from_url(redis_url)
    ours: dict[str, dict] = {}
    unbatched: dict[str, dict] = {}
    baseline: dict[str, dict] = {}
    try:
        database_create(db_url)
        manage("migrate", "--noinput", env=env)
        os.environ.update(env)
        import django

        django.setup()
        rooms = bench_data(rooms=max(s.rooms for s in args.selected))
        if args.no_email_tasks:
            from django.core.cache import cache

            from negotiations.services import notify_pending_key

            cache.set_many({notify_pending_key(room.id): 1 for room in rooms}, timeout=3600)
        print(f"   data ready in {time.monotonic() - started:.1f} s", flush=True)
        ctx = {
            "env": env,
            "run": run,
            "rooms": rooms,
            "logdir": logdir,
            "redis": redis_client,
            "database": urlsplit(db_url).path.lstrip("/"),
            "database_url": db_url,
        }
        for scenario in args.selected:
            for kind in ("ours", "unbatched", "baseline"):
                if kind == "baseline" and scenario.name not in args.baseline_names:
                    continue
                if kind == "unbatched" and scenario.name not in args.unbatched_names:
                    continue
                label = {"ours": "daphne", "unbatched": "daphne, each send alone"}.get(
                    kind, "bare relay"
                )
                print(f"== {scenario.name} ({label}, {scenario.sockets} sockets)", flush=True)
                target = {"ours": ours, "unbatched": unbatched}.get(kind, baseline)
                try:
                    figures = run_scenario(scenario, kind, ctx, args)
                except (TimeoutError, RuntimeError, OSError) as exc:
                    print(f"   failed: {exc}", flush=True)
                    target[scenario.name] = {"error": str(exc)}
                    continue
                target[scenario.name] = figures
                print(
                    f"   {figures['sockets']} sockets, {figures['messages_per_s']} msg/s, "
                    f"loss {figures['loss_pct']}%, p50/p99 {figures['p50_ms']}/"
                    f"{figures['p99_ms']} ms, ack p99 {figures['ack_p99_ms']} ms, "
                    f"{figures['server_cpu_us_per_msg']} us/msg, load {loadavg()}",
                    flush=True,
                )
    except (KeyboardInterrupt, RunTimeout) as exc:
        print(f"\nnegotiations: {exc or 'interrupted'}; stopping every process.", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
        CHILDREN.stop_all()
        with contextlib.suppress(Exception):
            for key in redis_client.scan_iter(f"{prefix}*", count=1000):
                redis_client.delete(key)
            redis_client.delete(f"_kombu.binding.{prefix}")
    ratios = {}
    for name, figures in baseline.items():
        base, mine = (
            figures.get("server_cpu_us_per_msg"),
            ours.get(name, {}).get("server_cpu_us_per_msg"),
        )
        if base and mine:
            ratios[name] = round(mine / base, 1)
    goals = goals_check(ours, args.main_name)
    report(ours, baseline, ratios, goals, args, unbatched)
    print(f"\nran {time.monotonic() - started:.0f} s; load average {loadavg()}")
    write_json(
        args.json_path,
        ours,
        baseline=baseline,
        unbatched=unbatched,
        cpu_ratio=ratios,
        goals=goals,
        quick=args.quick,
        config={
            "workers": args.workers,
            "warmup_s": args.warmup,
            "window_s": args.window,
            "drain_s": args.drain,
            "rate_per_socket": args.rate,
            "messages_per_minute": MESSAGES_PER_MINUTE,
            "client_loop": args.client_loop,
            "cores": os.cpu_count(),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
