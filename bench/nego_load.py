"""The negotiation benchmark's load generator: one client process holding many sockets.

``bench/negotiations.py`` starts a few of these (``multiprocessing``, spawn). Each gets its
connections (URL, Origin, session cookie, room id, side ``b`` buyer / ``e`` staff, and the
offsets at which it posts) and talks to the parent over a pipe in three steps, like
``bench/chat_load.py`` (whose lean connection, fd-limit and event-loop helpers it reuses):

1. **connect**: open every connection (a bounded number of handshakes in flight) and wait
   for ``nego.ready``; report how many are ready and why the others failed.
2. **go**: every socket posts ``nego.send`` in its one room at its scheduled times (a Poisson
   process per socket, drawn by the parent: never lock-step), each body carrying
   ``<run>|<room>:<side><n>|<time.time_ns() at send>|<text>``. Every ``nego.message`` that
   arrives is timed on receipt (receipt minus the embedded send time: every process reads
   the same wall clock) and counted per message id, apart for the other party (the
   figure that matters) and the sender's own socket (an echo: the bare relay sends one,
   the server none, as the ack tells the sender everything). A
   message of another room arriving on a socket is counted as ``misdelivered`` (it must be
   0: the rooms are private). Acks are timed against their send. Report.
3. **stop**: drop every connection and exit.

Loss is computed by the parent from the message ids: each message posted inside the window
and not refused must reach the other party's socket by the end of the drain."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
import uuid
from array import array
from collections import Counter

from chat_load import LeanConnection, cpu_seconds, die_with_parent, event_loop_run, raise_fd_limit
from websockets.asyncio.client import connect

#: Handshakes in flight at once per client process while connecting.
RAMP_CONCURRENCY = 16
MESSAGE = b'{"type":"nego.message"'
ACK = b'{"type":"nego.ack"'
#: What a buyer and a sales person write (about 90 characters with the marker).
FILLER = "Can you do FOB Shenzhen at 182.50 for 500 pieces, 30% deposit?"


class Client:
    """One socket (one user, one room): its place in the plan and what it saw."""

    __slots__ = (
        "index",
        "url",
        "origin",
        "cookie",
        "room",
        "room_id",
        "side",
        "schedule",
        "ws",
        "ready",
        "closed_at",
        "pending",
        "sent",
    )

    def __init__(self, index, url, origin, cookie, room, side, schedule) -> None:
        self.index = index
        self.url = url
        self.origin = origin
        self.cookie = cookie
        self.room = room  # str, as in message ids
        self.room_id = int(room)
        self.side = side  # "b" or "e"
        #: Send offsets in seconds from the start of sending.
        self.schedule = schedule
        self.ws = None
        self.ready = asyncio.Event()
        self.closed_at = 0.0
        #: client_id -> (message id, send time ns, inside the window)
        self.pending: dict[str, tuple[str, int, bool]] = {}
        self.sent = 0


class Load:
    def __init__(self, pipe, spec: dict) -> None:
        self.pipe = pipe
        self.spec = spec
        self.marker = f"{spec['run']}|"
        self.body_marker = f'"body":"{self.marker}'.encode()
        self.measuring = False
        self.clients = [Client(i, *connection) for i, connection in enumerate(spec["connections"])]
        self.t0 = self.t1 = 0  # the window, ns
        # Deliveries of the window's messages: to the other party, and echoes to the sender.
        self.delivered: Counter[bytes] = Counter()
        self.echoed: Counter[bytes] = Counter()
        self.latencies = array("d")
        self.latency_at = array("d")  # send time of each of ``latencies``, s after t0
        self.echo_ms = array("d")
        self.ack_ms = array("d")
        self.sent_ids: list[str] = []  # posted inside the window
        self.acked_ids: list[str] = []
        self.rejected: Counter[str] = Counter()
        self.rejected_ids: list[str] = []
        self.misdelivered = 0
        self.foreign = 0  # nego.message frames without this run's marker (warm-up, system)
        self.unexpected: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.connect_ms = array("d")
        self.late_send_ms = array("d")
        self.frames = 0

    # --- Receiving --------------------------------------------------------------------------

    def on_text(self, client: Client, data: bytes) -> None:
        received_ns = time.time_ns()
        self.frames += 1
        if data.startswith(MESSAGE):
            at = data.find(self.body_marker)
            if at == -1:
                self.foreign += 1
                return
            start = at + len(self.body_marker)
            bar = data.index(b"|", start)
            end = data.index(b"|", bar + 1)
            message_id = bytes(data[start:bar])
            sent_ns = int(data[bar + 1 : end])
            colon = message_id.index(b":")
            if int(message_id[:colon]) != client.room_id:
                self.misdelivered += 1
                return
            if not self.t0 <= sent_ns <= self.t1:
                return
            latency = (received_ns - sent_ns) / 1e6
            if message_id[colon + 1 : colon + 2].decode() == client.side:
                self.echoed[message_id] += 1
                self.echo_ms.append(latency)
            else:
                self.delivered[message_id] += 1
                self.latencies.append(latency)
                self.latency_at.append((sent_ns - self.t0) / 1e9)
            return
        frame = json.loads(data)
        kind = frame.get("type")
        if kind == "nego.ack":
            sent = client.pending.pop(frame.get("client_id"), None)
            if sent is not None and sent[2]:
                self.acked_ids.append(sent[0])
                self.ack_ms.append((received_ns - sent[1]) / 1e6)
        elif kind == "error":
            sent = client.pending.pop(frame.get("client_id") or "", None)
            self.rejected[str(frame.get("code"))] += 1
            if sent is not None and sent[2]:
                self.rejected_ids.append(sent[0])
        elif kind == "nego.ready":
            client.ready.set()
        elif kind != "pong":
            self.unexpected[str(kind)] += 1

    def on_lost(self, client: Client, exc) -> None:
        client.closed_at = time.time()
        if self.measuring:
            self.failures[f"lost:{type(exc).__name__ if exc else 'closed'}"] += 1

    # --- Connecting -------------------------------------------------------------------------

    def connection_factory(self, client: Client):
        def create(*args, **kwargs) -> LeanConnection:
            connection = LeanConnection(*args, **kwargs)
            connection.on_text = lambda data: self.on_text(client, data)
            connection.on_lost = lambda exc: self.on_lost(client, exc)
            return connection

        return create

    async def open(self, client: Client, gate: asyncio.Semaphore, timeout: float) -> None:
        headers = {"Cookie": client.cookie} if client.cookie else None
        async with gate:
            started = time.perf_counter()
            try:
                client.ws = await connect(
                    client.url,
                    origin=client.origin,
                    additional_headers=headers,
                    compression=None,
                    open_timeout=timeout,
                    ping_interval=None,
                    close_timeout=2,
                    max_size=2**22,
                    create_connection=self.connection_factory(client),
                )
                await asyncio.wait_for(client.ready.wait(), timeout)
            except Exception as exc:  # noqa: BLE001 (a failed connect is a result, not a crash)
                status = getattr(getattr(exc, "response", None), "status_code", None)
                reason = f"{type(exc).__name__}:{status}" if status else type(exc).__name__
                self.failures[f"connect:{reason}"] += 1
                return
            self.connect_ms.append((time.perf_counter() - started) * 1000)

    async def connect_all(self, timeout: float, deadline: float) -> dict:
        started = time.perf_counter()
        gate = asyncio.Semaphore(RAMP_CONCURRENCY)
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self.open(c, gate, timeout)) for c in self.clients]
        _done, pending = await asyncio.wait(tasks, timeout=max(1.0, deadline - time.time()))
        for task in pending:
            task.cancel()
        if pending:
            self.failures["connect:deadline"] += len(pending)
            await asyncio.gather(*pending, return_exceptions=True)
        ready = sum(1 for c in self.clients if c.ready.is_set())
        return {
            "ready": ready,
            "failed": len(self.clients) - ready,
            "failures": dict(self.failures),
            "connect_ms": self.connect_ms.tobytes(),
            "seconds": time.perf_counter() - started,
        }

    # --- Sending ----------------------------------------------------------------------------

    async def post(self, client: Client, start: float) -> None:
        for offset in client.schedule:
            delay = start + offset - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # How late the generator posts (0 on time): large values mean it is overloaded.
            self.late_send_ms.append(max(0.0, time.time() - start - offset) * 1000)
            if client.ws is None or client.closed_at:
                continue
            client.sent += 1
            message_id = f"{client.room}:{client.side}{client.sent}"
            client_id = str(uuid.uuid4())
            sent_ns = time.time_ns()
            in_window = self.t0 <= sent_ns <= self.t1
            client.pending[client_id] = (message_id, sent_ns, in_window)
            if in_window:
                self.sent_ids.append(message_id)
            frame = {
                "type": "nego.send",
                "negotiation": client.room_id,
                "client_id": client_id,
                "body": f"{self.marker}{message_id}|{sent_ns}|{FILLER}",
            }
            try:
                await client.ws.send(json.dumps(frame, separators=(",", ":")))
            except Exception as exc:  # noqa: BLE001 (the socket died; its loss is counted)
                self.failures[f"send:{type(exc).__name__}"] += 1

    async def measure(self, go: dict) -> dict:
        self.t0, self.t1 = go["t0_ns"], go["t1_ns"]
        self.failures = Counter()  # connect failures were reported already
        self.measuring = True
        gc.collect()
        gc.freeze()
        gc.disable()
        cpu_before = cpu_seconds()
        loop = asyncio.get_running_loop()
        senders = [
            loop.create_task(self.post(c, go["send_from"]))
            for c in self.clients
            if c.schedule and c.ready.is_set()
        ]
        await asyncio.sleep(max(0.0, go["t1_ns"] / 1e9 - time.time()))
        cpu_window = cpu_seconds() - cpu_before
        await asyncio.sleep(max(0.0, go["end"] - time.time()))
        for task in senders:
            task.cancel()
        gc.enable()
        t0_s = go["t0_ns"] / 1e9
        dropped = sum(
            1 for c in self.clients if c.ready.is_set() and c.closed_at and c.closed_at >= t0_s
        )
        unanswered = [p[0] for c in self.clients for p in c.pending.values() if p[2]]
        return {
            "sent_ids": self.sent_ids,
            "acked_ids": self.acked_ids,
            "rejected": dict(self.rejected),
            "rejected_ids": self.rejected_ids,
            "unanswered_ids": unanswered,
            "delivered": {key.decode(): n for key, n in self.delivered.items()},
            "echoed": {key.decode(): n for key, n in self.echoed.items()},
            "latencies": self.latencies.tobytes(),
            "latency_at": self.latency_at.tobytes(),
            "echo_ms": self.echo_ms.tobytes(),
            "ack_ms": self.ack_ms.tobytes(),
            "late_send_ms": self.late_send_ms.tobytes(),
            "misdelivered": self.misdelivered,
            "foreign": self.foreign,
            "frames": self.frames,
            "unexpected": dict(self.unexpected),
            "dropped": dropped,
            "failures": dict(self.failures),
            "cpu_window_s": cpu_window,
        }

    async def stop(self) -> None:
        for client in self.clients:
            if client.ws is not None and client.ws.transport is not None:
                client.ws.transport.abort()
        await asyncio.sleep(0.2)

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        command = await loop.run_in_executor(None, self.pipe.recv)
        if command["op"] != "connect":
            return
        self.pipe.send(await self.connect_all(command["timeout"], command["deadline"]))
        while True:
            command = await loop.run_in_executor(None, self.pipe.recv)
            if command["op"] == "go":
                self.pipe.send(await self.measure(command))
            elif command["op"] == "stop":
                await self.stop()
                self.pipe.send({"stopped": True})
                return


def worker_main(pipe, spec: dict) -> None:
    """Entry point of a client process (``multiprocessing`` target)."""
    die_with_parent()
    raise_fd_limit()
    with contextlib.suppress(KeyboardInterrupt, EOFError, BrokenPipeError):
        event_loop_run(Load(pipe, spec).main(), spec.get("loop", "asyncio"))
