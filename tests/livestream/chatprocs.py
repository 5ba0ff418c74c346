"""Real server processes and a real chat client for the multi-process chat tests (issue 5).

* ``DaphnePair``: two (or more) Daphne processes serving ``fair.asgi:application`` on free
  loopback ports, all on the *test* database and one Redis (``REDIS_URL``) under one key
  and channel prefix (``REDIS_KEY_PREFIX``), so together they are one CloudFair. Started in
  parallel (each needs a couple of seconds to import Django).
* ``RedisServer``: a ``redis-server`` of the test's own on a free port, without
  persistence, that can be killed and started again on the same port. The shared Redis on
  6379 is never touched: other tests and helpers use it.
* ``RoomSocket``: one ``/ws/live/<id>/`` connection through the ``websockets`` client
  library, with the Origin header and the session cookie a browser sends; unpacks
  ``batch`` frames and waits for the reply to a ``client_id``.
* ``Receiver`` and ``send_messages``: the chat client's duties from the protocol
  (``livestream/consumers.py``): a receiver keeps messages by ``seq``, drops duplicates,
  asks for a gap that stays open with ``chat.resume`` and reconnects with backoff, jitter
  and ``?after=``; a sender retries the same ``client_id`` after ``unavailable``,
  ``rate_limited`` or a closed socket until the ack comes.

Plain Python (no pytest): the fixtures and the scenarios live in
``tests/livestream/test_chat_processes.py``. Processes are stopped by their PID."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from tests.e2e.liveserver import (
    HOST,
    PROJECT_ROOT,
    DaphneServer,
    ServerError,
    _die_with_parent,
    database_url,
    free_port,
)

REDIS_SERVER = "redis-server"
REDIS_START_TIMEOUT = 10.0
#: What a client treats as "the connection is gone, try again later".
RETRYABLE = (OSError, WebSocketException, TimeoutError)
#: A gap in the received sequence that stays open this long is asked for (chat.js: 2 s).
GAP_WAIT_SECONDS = 0.5
#: A chat.send with no reply within this long is sent again on a new socket.
REPLY_TIMEOUT = 15.0


# --- Processes ----------------------------------------------------------------------------------


def server_env(*, redis_url: str, key_prefix: str, **extra: str) -> dict[str, str]:
    """The environment of a Daphne process on the test database (read from the settings
    after pytest-django renamed it), ``redis_url`` and ``key_prefix``."""
    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="fair.settings.test",
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=key_prefix,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        # The servers run consumers' database work on the pool, as in production.
        REALTIME_DB_THREADS="4",
        **extra,
    )
    return env


class DaphnePair:
    """``count`` Daphne processes with one environment, started together."""

    def __init__(self, *, env: dict[str, str], log_dir: Path, count: int = 2) -> None:
        self.servers = [
            DaphneServer(env=env, log_path=log_dir / f"daphne-{index}.log")
            for index in range(count)
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Launch every process, then wait until each answers (two cores shared with other
        runs: be patient). Launched from this thread, not a pool's: the children's
        "die with parent" signal fires when the *thread* that started them ends."""
        for server in self.servers:
            server.port = free_port(server.host)
            server._log_file = open(server.log_path, "ab")  # noqa: SIM115 (closed by stop())
            server.process = subprocess.Popen(
                server.command(),
                cwd=PROJECT_ROOT,
                env=server.env,
                stdin=subprocess.DEVNULL,
                stdout=server._log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        deadline = time.monotonic() + timeout
        waiting = list(self.servers)
        while waiting:
            for server in list(waiting):
                if server.process.poll() is not None:
                    self.stop()
                    raise ServerError(
                        f"Daphne exited with code {server.process.returncode} before it "
                        f"answered on {server.url}.\n{server.log_tail()}"
                    )
                if server._port_answers():
                    waiting.remove(server)
            if waiting and time.monotonic() > deadline:
                self.stop()
                raise ServerError(
                    f"Daphne did not answer within {timeout:.0f} s.\n{self.log_tails()}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM to every process at once, SIGKILL to any still there after ``timeout``."""
        running = [s.process for s in self.servers if s.process and s.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for server in self.servers:
            server.stop()  # closes its log

    def check_alive(self) -> None:
        for server in self.servers:
            server.check_alive()

    def log_tails(self) -> str:
        return "\n".join(server.log_tail(3000) for server in self.servers)


class RedisServer:
    """A private ``redis-server`` on a free loopback port, with nothing saved to disk: a
    restart comes back empty, as a crashed Redis without persistence does."""

    def __init__(self, *, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 (the child keeps it)
        try:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--bind",
                    HOST,
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                    "--protected-mode",
                    "no",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            log.close()
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.workdir / "redis.log").read_text(errors="replace")[-3000:]
                raise ServerError(f"redis-server did not answer on port {self.port}.\n{log_text}")
            time.sleep(0.05)
        self.starts += 1

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash: open connections break, unsaved data is gone."""
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- The client ---------------------------------------------------------------------------------


def ws_url(base_url: str, session_id: int, after: int | None = None) -> str:
    url = base_url.replace("http://", "ws://", 1) + f"/ws/live/{session_id}/"
    return url if after is None else f"{url}?after={after}"


class Backoff:
    """Exponential backoff with jitter: a random wait between half and all of a ceiling that
    doubles from 0.05 s up to 1 s, so clients cut off together do not return together."""

    def __init__(self, first: float = 0.05, cap: float = 1.0) -> None:
        self.first, self.cap, self.attempt = first, cap, 0

    def reset(self) -> None:
        self.attempt = 0

    async def sleep(self) -> None:
        ceiling = min(self.cap, self.first * 2**self.attempt)
        self.attempt += 1
        await asyncio.sleep(random.uniform(ceiling / 2, ceiling))


class RoomSocket:
    """One stream-room socket. ``events`` come out one at a time, batches unpacked."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._pending: list[dict] = []

    @classmethod
    async def open(
        cls, base_url: str, session_id: int, *, cookie: str = "", after: int | None = None
    ) -> RoomSocket:
        ws = await connect(
            ws_url(base_url, session_id, after),
            origin=base_url,
            additional_headers={"Cookie": cookie} if cookie else None,
            compression=None,
            open_timeout=20,
            close_timeout=2,
            max_size=4 * 2**20,
        )
        return cls(ws)

    async def close(self) -> None:
        with contextlib.suppress(*RETRYABLE):
            await self.ws.close()

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def event(self, timeout: float = 10.0) -> dict:
        """The next event (a ``batch`` frame's events one by one, in order)."""
        if not self._pending:
            async with asyncio.timeout(timeout):
                frame = json.loads(await self.ws.recv())
            if frame.get("type") == "batch":
                self._pending.extend(frame["events"])
            else:
                self._pending.append(frame)
        return self._pending.pop(0)

    async def until(self, predicate: Callable[[dict], bool], timeout: float = 10.0) -> list[dict]:
        """Every event up to and including the first that matches ``predicate``."""
        seen: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            event = await self.event(max(0.01, deadline - time.monotonic()))
            seen.append(event)
            if predicate(event):
                return seen

    async def greeting(self, timeout: float = 20.0) -> dict[str, dict]:
        """``room.joined``, ``viewers`` and ``chat.history`` of a fresh socket (and any
        broadcast that came before them, under ``"early"``)."""
        found: dict = {"early": []}
        while "chat.history" not in found:
            event = await self.event(timeout)
            kind = event["type"]
            if kind in ("room.joined", "chat.history") or (
                kind == "viewers" and "room.joined" in found and "viewers" not in found
            ):
                found[kind] = event
            else:
                found["early"].append(event)
        return found

    async def reply(self, client_id: str, timeout: float = REPLY_TIMEOUT) -> dict:
        """The ``chat.ack`` or ``error`` for ``client_id``; broadcasts are skipped without
        being decoded (replies to the sender are never batched)."""
        async with asyncio.timeout(timeout):
            while True:
                text = await self.ws.recv()
                if not text.startswith(('{"type":"chat.ack"', '{"type":"error"')):
                    continue
                frame = json.loads(text)
                if frame.get("client_id") == client_id:
                    return frame


@dataclass
class SendStats:
    """What the senders went through (to prove a restart really hit the run)."""

    acks: dict[str, tuple[int, str]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    closed: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


async def send_messages(
    base_url: str,
    session_id: int,
    *,
    cookie: str,
    messages: Iterable[tuple[str, str]],
    stats: SendStats,
) -> None:
    """Send ``(client_id, body)`` pairs one after another as one user, each until acked.

    ``unavailable``, ``rate_limited`` and ``slow_mode`` are waited out (``retry_after``) and
    the same ``client_id`` sent again; a closed or silent socket is replaced (backoff with
    jitter) and the message sent again. Any other error is a problem: recorded, given up."""
    pending = list(messages)
    backoff = Backoff()
    while pending:
        room = None
        try:
            room = await RoomSocket.open(base_url, session_id, cookie=cookie)
            await room.greeting()
            backoff.reset()
            while pending:
                client_id, body = pending[0]
                await room.send({"type": "chat.send", "client_id": client_id, "body": body})
                frame = await room.reply(client_id)
                if frame["type"] == "chat.ack":
                    ack = (frame["seq"], frame["sent_at"])
                    if stats.acks.setdefault(client_id, ack) != ack:
                        stats.problems.append(
                            f"{client_id}: two acks {stats.acks[client_id]}, {ack}"
                        )
                    pending.pop(0)
                    continue
                code = frame["code"]
                stats.count(code)
                if code in ("unavailable", "rate_limited", "slow_mode"):
                    await asyncio.sleep(float(frame.get("retry_after", 1)) * random.uniform(1, 1.2))
                    continue
                stats.problems.append(f"{client_id}: unexpected error {frame}")
                pending.pop(0)
        except RETRYABLE:
            stats.closed += 1
            await backoff.sleep()
        finally:
            if room is not None:
                await room.close()


class Receiver:
    """A viewer that must end up holding every message exactly once, in order.

    Keeps messages by ``seq`` (duplicates dropped, as chat.js does); ``contiguous`` is the
    highest ``seq`` up to which nothing is missing. A gap that stays open for
    ``GAP_WAIT_SECONDS`` is asked for with ``chat.resume``; a lost socket is reopened with
    ``?after=<contiguous>`` (backoff, jitter). Every history answer is checked against the
    protocol (ascending, contiguous, starting right after what was asked) into
    ``problems``. ``finish(last)`` makes it resume once more and return when it holds
    everything up to ``last`` and the server said the resume was complete."""

    def __init__(self, base_url: str, session_id: int, *, cookie: str = "", name: str = "") -> None:
        self.base_url, self.session_id, self.cookie = base_url, session_id, cookie
        self.name = name or base_url
        self.held: dict[int, str | None] = {}
        self.contiguous = 0
        self.highest = 0
        self.live: list[tuple[float, int]] = []  # (monotonic time, seq) of broadcasts
        self.out_of_order = 0
        self.duplicates = 0
        self.reconnects = 0
        self.after_connects = 0  # sockets opened with ?after=
        self.resumes = 0
        self.problems: list[str] = []
        self.joined = asyncio.Event()
        self._gap_since: float | None = None
        self._asked: int | None = None  # the ``after`` of the history answer awaited
        self._finish_at: int | None = None
        self._final_asked = False
        self._drop = False
        self.done = asyncio.Event()

    # The run ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Until ``finish`` is done; an unexpected failure ends it as a problem."""
        try:
            await self._run()
        except Exception as error:
            self.problems.append(f"{self.name}: {error!r}")
            self.done.set()

    async def _run(self) -> None:
        backoff = Backoff()
        first = True
        while not self.done.is_set():
            room = None
            try:
                after = None if first else self.contiguous
                self._asked = None
                room = await RoomSocket.open(
                    self.base_url, self.session_id, cookie=self.cookie, after=after
                )
                self._asked = after
                if after is not None:
                    self.after_connects += 1
                first = False
                backoff.reset()
                self.joined.set()
                await self._serve(room)
            except RETRYABLE:
                self.reconnects += 1
                await backoff.sleep()
            finally:
                if room is not None:
                    await room.close()

    def drop(self) -> None:
        """Lose the socket now (a network blip): the client reconnects with ``?after=``."""
        self._drop = True

    def finish(self, last: int) -> None:
        """Resume now, and stop once everything up to ``last`` is held."""
        self._finish_at = last

    async def _serve(self, room: RoomSocket) -> None:
        while not self.done.is_set():
            if self._drop:
                self._drop = False
                raise ConnectionResetError("dropped by the test")
            if self._finish_at is not None and not self._final_asked and self._asked is None:
                self._final_asked = True
                await self._resume(room)
            elif self._gap_open() and self._asked is None:
                await self._resume(room)
            try:
                event = await room.event(timeout=0.1)
            except TimeoutError:
                continue
            kind = event["type"]
            if kind == "chat.message":
                self._live(event)
            elif kind == "chat.history":
                self._history(event)
                if not event["complete"]:
                    await self._resume(room)
            self._check_done()

    async def _resume(self, room: RoomSocket) -> None:
        self._asked = self.contiguous
        self.resumes += 1
        await room.send({"type": "chat.resume", "after": self.contiguous})

    def _gap_open(self) -> bool:
        return self._gap_since is not None and (
            time.monotonic() - self._gap_since >= GAP_WAIT_SECONDS
        )

    def _check_done(self) -> None:
        if (
            self._finish_at is not None
            and self._final_asked
            and self._asked is None
            and self.contiguous >= self._finish_at
            and self.highest == self.contiguous
        ):
            self.done.set()

    # Frames ----------------------------------------------------------------------------------

    def _live(self, event: dict) -> None:
        seq = event["seq"]
        self.live.append((time.monotonic(), seq))
        if seq != self.highest + 1 and seq not in self.held:
            self.out_of_order += 1
        self._keep(event)

    def _history(self, event: dict) -> None:
        asked, self._asked = self._asked, None
        seqs = [message["seq"] for message in event["messages"]]
        if event["resumed"] != (asked is not None):
            self.problems.append(f"{self.name}: resumed={event['resumed']} after={asked}")
        if asked is not None:
            expected = list(range(asked + 1, asked + 1 + len(seqs)))
            if seqs != expected:
                self.problems.append(f"{self.name}: after {asked} got {seqs[:5]}...")
        elif seqs != sorted(seqs):
            self.problems.append(f"{self.name}: history not ascending {seqs[:5]}...")
        if not self.held and asked is None and seqs:
            self.contiguous = seqs[0] - 1
        for message in event["messages"]:
            self._keep(message)

    def _keep(self, message: dict) -> None:
        seq = message["seq"]
        client_id = None if message.get("hidden") else message["client_id"]
        if seq in self.held:
            self.duplicates += 1
            if self.held[seq] != client_id:
                self.problems.append(f"{self.name}: seq {seq} was {self.held[seq]}, {client_id}")
            return
        self.held[seq] = client_id
        self.highest = max(self.highest, seq)
        while self.contiguous + 1 in self.held:
            self.contiguous += 1
        if self.highest > self.contiguous:  # something above a hole
            if self._gap_since is None:
                self._gap_since = time.monotonic()
        else:
            self._gap_since = None
