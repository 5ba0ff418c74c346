"""The chat benchmark's load generator: one client process holding many websockets.

``bench/chat_fanout.py`` starts several of these (``multiprocessing``, spawn) so the generator
is not the bottleneck and each process stays under its file-descriptor limit. A process gets
its connections (URL, Origin, session cookie, room, and for senders the times at which they
post), and then talks to the parent over a pipe in three steps:

1. **connect**: open every connection (a bounded number of handshakes in flight, or all at
   once at an agreed instant for the burst scenario) and wait for ``room.joined``; report
   how many joined, how many failed and why, and the handshake / join times.
2. **go** (wall-clock instants: sending starts, the measured window opens and closes, the
   drain ends): senders post ``chat.send`` at their scheduled times (randomised, never
   lock-step), each body carrying ``<run>|<message id>|<time.time_ns() at send>``;
   every socket unpacks ``batch`` frames and, for each ``chat.message`` sent inside the
   window, records the delivery latency (receipt minus the embedded send time: every
   process reads the same wall clock) and counts the delivery per message id. Report.
3. **stop**: drop every connection and exit.

Loss is computed by the parent: every socket of a room that joined before the window must
receive every message posted in the room during the window (the sender's own included, as
the protocol says), by the end of the drain. Explicit refusals (``error`` frames such as
``rate_limited``) are counted apart, not as loss: they mean the bench broke a rule.

The client must stay cheap, or its own queueing shows up as server latency on a 2-core
machine: ``websockets`` does the handshake, framing and sending, but received text frames
go straight from its protocol parser to ``Load.on_text`` (``LeanConnection``), skipping the
per-message future and ``recv()`` wake-up; chat messages are picked out of the frame's bytes
by their marker (rare frames, such as acks and errors, are decoded as JSON). Garbage
collection is frozen and disabled once connected: a full collection in the client over tens
of thousands of connection objects would otherwise show up as server latency too."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import resource
import time
import uuid
from array import array
from collections import Counter

from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

#: Handshakes in flight at once per client process while ramping up (not in the burst): the
#: ramp fills the rooms, it is not meant to test how many connects the servers take at once.
RAMP_CONCURRENCY = 16
BATCH = b'{"type":"batch"'
MESSAGE = b'{"type":"chat.message"'
#: Filler after the marker so a message looks like a buyer's question.
FILLER = "Great product, can it ship in Q3? What is the MOQ for the blue one?"


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def die_with_parent() -> None:
    """Ask the kernel to send SIGTERM when the parent dies (Linux), so no client or server
    process outlives a benchmark that was killed."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LeanConnection(ClientConnection):
    """A client connection that leaves the handshake and sending to ``websockets`` but reads
    the server's frames itself: each complete text frame goes, as bytes, straight to
    ``on_text`` (no per-frame parser generator, future or ``recv()`` wake-up, which cost
    more than the server's own work per delivery here). Server frames are never masked;
    pings are answered through ``websockets``; anything else (close, binary, fragments,
    none of which the servers send here) drops the connection and is counted by
    ``on_lost``."""

    on_text = None
    on_lost = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._head: bytearray | None = bytearray()
        self._rest = b""

    def data_received(self, data: bytes) -> None:
        if self._head is not None:
            # Until the end of the HTTP response, ``websockets`` reads (the handshake);
            # every byte after it is a frame, and only this method sees frames.
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end == -1:
                return
            head, data = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
            self._head = None
            super().data_received(head)
            if self.protocol.state is not State.OPEN or not data:
                return
        buffer = self._rest + data if self._rest else data
        size = len(buffer)
        at = 0
        while size - at >= 2:
            first, length = buffer[at], buffer[at + 1] & 0x7F
            header = 2
            if length == 126:
                if size - at < 4:
                    break
                length, header = int.from_bytes(buffer[at + 2 : at + 4], "big"), 4
            elif length == 127:
                if size - at < 10:
                    break
                length, header = int.from_bytes(buffer[at + 2 : at + 10], "big"), 10
            if size - at < header + length:
                break
            payload = buffer[at + header : at + header + length]
            at += header + length
            opcode = first & 0x0F
            if opcode == 0x1 and first & 0x80:
                self.on_text(payload)
            elif opcode == 0x9:  # ping
                self.protocol.send_pong(payload)
                self.send_data()
            elif opcode != 0xA:  # not a pong: close, binary or a fragment
                self.transport.abort()
                return
        self._rest = buffer[at:]

    def connection_lost(self, exc) -> None:
        super().connection_lost(exc)
        if self.on_lost is not None:
            self.on_lost(exc)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Client:
    """One websocket: its place in the plan and what it saw."""

    __slots__ = (
        "index",
        "url",
        "origin",
        "cookie",
        "room",
        "schedule",
        "ws",
        "joined",
        "joined_at",
        "closed_at",
        "pending",
    )

    def __init__(self, index, url, origin, cookie, room, schedule) -> None:
        self.index = index
        self.url = url
        self.origin = origin
        self.cookie = cookie
        self.room = room
        #: Send offsets in seconds from the start of sending (senders only).
        self.schedule = schedule
        self.ws = None
        self.joined = asyncio.Event()
        self.joined_at = 0.0
        self.closed_at = 0.0
        #: client_id -> (message id, send time ns, counted in the window)
        self.pending: dict[str, tuple[str, int, bool]] = {}


class Load:
    def __init__(self, pipe, spec: dict) -> None:
        self.pipe = pipe
        self.spec = spec
        self.run = spec["run"]
        self.marker = f"{self.run}|"
        self.body_marker = f'"body":"{self.marker}'.encode()
        self.measuring = False
        self.clients = [
            Client(i, url, origin, cookie, room, schedule)
            for i, (url, origin, cookie, room, schedule) in enumerate(spec["connections"])
        ]
        self.t0 = self.t1 = 0  # window, ns
        self.counts: Counter[str] = Counter()
        self.latencies = array("d")
        self.ack_ms = array("d")
        self.sent: Counter[str] = Counter()  # room -> messages posted in the window
        self.sent_ids: dict[str, list[str]] = {}
        self.rejected: Counter[str] = Counter()
        self.rejected_ids: list[str] = []
        self.acked = 0
        self.frames = 0
        self.events = 0
        self.unexpected: Counter[str] = Counter()
        self.connect_ms = array("d")
        self.joined_ms = array("d")
        self.failures: Counter[str] = Counter()
        self.late_send_ms = array("d")

    # --- Receiving --------------------------------------------------------------------------

    def on_text(self, client: Client, data: bytes) -> None:
        received_ns = time.time_ns()
        if data.startswith(BATCH) or data.startswith(MESSAGE):
            self.frames += 1
            self.events += data.count(b'"type":"') - (1 if data.startswith(BATCH) else 0)
            marker, size = self.body_marker, len(self.body_marker)
            at = data.find(marker)
            while at != -1:
                start = at + size
                bar = data.index(b"|", start)
                end = data.index(b"|", bar + 1)
                sent_ns = int(data[bar + 1 : end])
                if self.t0 <= sent_ns <= self.t1:
                    self.counts[bytes(data[start:bar])] += 1
                    self.latencies.append((received_ns - sent_ns) / 1e6)
                at = data.find(marker, end)
            return
        frame = json.loads(data)
        self.on_reply(client, frame.get("type"), frame, received_ns)

    def on_reply(self, client: Client, kind, frame: dict, received_ns: int) -> None:
        if kind == "chat.ack":
            sent = client.pending.pop(frame.get("client_id"), None)
            if sent is not None:
                self.acked += 1
                if sent[2]:
                    self.ack_ms.append((received_ns - sent[1]) / 1e6)
        elif kind == "error":
            sent = client.pending.pop(frame.get("client_id") or "", None)
            code = str(frame.get("code"))
            self.rejected[code] += 1
            if sent is not None and sent[2]:
                self.rejected_ids.append(sent[0])
        elif kind == "room.joined":
            if not client.joined.is_set():
                client.joined_at = time.perf_counter()
                client.joined.set()
        elif kind in ("viewers", "chat.history", "pong", "reactions"):
            pass
        else:
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

    async def open(self, client: Client, gate: asyncio.Semaphore | None, timeout: float) -> None:
        headers = {"Cookie": client.cookie} if client.cookie else None
        async with gate if gate is not None else contextlib.nullcontext():
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
            except Exception as exc:  # noqa: BLE001 (a failed connect is a result, not a crash)
                status = getattr(getattr(exc, "response", None), "status_code", None)
                reason = f"{type(exc).__name__}:{status}" if status else type(exc).__name__
                self.failures[f"connect:{reason}"] += 1
                return
            self.connect_ms.append((time.perf_counter() - started) * 1000)
            try:
                await asyncio.wait_for(client.joined.wait(), timeout)
            except TimeoutError:
                self.failures["join:timeout"] += 1
                return
            self.joined_ms.append((client.joined_at - started) * 1000)

    async def connect_all(self, burst_at: float | None, timeout: float, deadline: float) -> dict:
        """Open every connection; whatever has not joined by ``deadline`` (wall clock) is
        given up and counted as failed."""
        started = time.perf_counter()
        if burst_at is not None:  # everyone at the same wall-clock instant
            await asyncio.sleep(max(0.0, burst_at - time.time()))
            gate = None
        else:
            gate = asyncio.Semaphore(RAMP_CONCURRENCY)
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self.open(c, gate, timeout)) for c in self.clients]
        _done, pending = await asyncio.wait(tasks, timeout=max(1.0, deadline - time.time()))
        for task in pending:
            task.cancel()
        if pending:
            self.failures["connect:deadline"] += len(pending)
            await asyncio.gather(*pending, return_exceptions=True)
        joined = [c for c in self.clients if c.joined.is_set()]
        return {
            "joined": len(joined),
            "failed": len(self.clients) - len(joined),
            "failures": dict(self.failures),
            "connect_ms": self.connect_ms.tobytes(),
            "joined_ms": self.joined_ms.tobytes(),
            "seconds": time.perf_counter() - started,
        }

    # --- Sending ----------------------------------------------------------------------------

    async def post(self, client: Client, start: float, counter: list[int]) -> None:
        for offset in client.schedule:
            delay = start + offset - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # How late the generator posts (0 on time): large values mean it is overloaded.
            self.late_send_ms.append(max(0.0, time.time() - start - offset) * 1000)
            if client.ws is None or client.closed_at:
                continue
            counter[0] += 1
            message_id = f"{client.room}:{client.index}:{counter[0]}:{self.spec['worker']}"
            client_id = str(uuid.uuid4())
            sent_ns = time.time_ns()
            in_window = self.t0 <= sent_ns <= self.t1
            client.pending[client_id] = (message_id, sent_ns, in_window)
            if in_window:
                self.sent[client.room] += 1
                self.sent_ids.setdefault(client.room, []).append(message_id)
            body = f"{self.marker}{message_id}|{sent_ns}|{FILLER}"
            try:
                await client.ws.send(
                    json.dumps(
                        {"type": "chat.send", "client_id": client_id, "body": body},
                        separators=(",", ":"),
                    )
                )
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
        counter = [0]
        senders = [
            asyncio.get_running_loop().create_task(self.post(c, go["send_from"], counter))
            for c in self.clients
            if c.schedule and c.joined.is_set()
        ]
        await asyncio.sleep(max(0.0, go["t1_ns"] / 1e9 - time.time()))
        cpu_window = cpu_seconds() - cpu_before
        await asyncio.sleep(max(0.0, go["end"] - time.time()))
        for task in senders:
            task.cancel()
        gc.enable()
        t0_s = go["t0_ns"] / 1e9
        receivers: Counter[str] = Counter()
        dropped = dropped_before = 0
        for client in self.clients:
            if not (client.joined.is_set() and client.ws is not None):
                continue
            if client.closed_at and client.closed_at < t0_s:
                dropped_before += 1  # gone before the window: not a receiver
                continue
            receivers[client.room] += 1
            if client.closed_at:
                dropped += 1  # dropped during the window: what it missed counts as loss
        unanswered = sum(1 for c in self.clients for p in c.pending.values() if p[2])
        return {
            "receivers": dict(receivers),
            "sent": dict(self.sent),
            "sent_ids": self.sent_ids,
            "rejected": dict(self.rejected),
            "rejected_ids": self.rejected_ids,
            "unanswered": unanswered,
            "acked": self.acked,
            "counts": {key.decode(): n for key, n in self.counts.items()},
            "latencies": self.latencies.tobytes(),
            "ack_ms": self.ack_ms.tobytes(),
            "late_send_ms": self.late_send_ms.tobytes(),
            "frames": self.frames,
            "events": self.events,
            "unexpected": dict(self.unexpected),
            "dropped": dropped,
            "dropped_before_window": dropped_before,
            "failures": dict(self.failures),
            "cpu_window_s": cpu_window,
            "window_s": go["t1_ns"] / 1e9 - t0_s,
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
        report = await self.connect_all(
            command.get("burst_at"), command["timeout"], command["deadline"]
        )
        self.pipe.send(report)
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


def event_loop_run(coroutine, loop: str) -> None:
    """Run on uvloop when asked and installed (a socket read costs a third of asyncio's
    pure-Python path, and reads are most of the generator's work), else on asyncio."""
    if loop == "uvloop":
        with contextlib.suppress(ImportError):
            import uvloop

            uvloop.run(coroutine)
            return
    asyncio.run(coroutine)
