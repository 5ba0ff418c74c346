"""The chat benchmark's baseline: a bare broadcast server written with ``websockets``.

    python bench/chat_baseline.py --port 9001

The floor plain Python reaches for the same fan-out, measured in the same run with the same
load generator (``bench/chat_fanout.py``): one set of connections per room (the URL path),
and on each ``chat.send`` it numbers the message, encodes one ``chat.message`` frame of the
same shape as the real one, acks the sender and writes that frame to every connection of
the room with ``websockets.broadcast`` (no database, no channel layer, no permission
checks, no batching). It greets each socket with ``room.joined`` like the real room so the
generator needs no special case, and answers ``ping``. One process has no way to reach
another's sockets, so the generator keeps each room on one baseline process."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from datetime import UTC, datetime

from chat_load import die_with_parent, raise_fd_limit

AUTHOR = {"name": "Bench Sender", "company": "Bench Trading", "badge": ""}


class Rooms:
    def __init__(self) -> None:
        self.sockets: dict[str, set] = {}
        self.seq: dict[str, int] = {}

    async def handler(self, ws) -> None:
        from websockets.asyncio.server import broadcast

        path = ws.request.path
        session = int(path.rstrip("/").rsplit("/", 1)[-1] or 0)
        room = self.sockets.setdefault(path, set())
        room.add(ws)
        try:
            await ws.send(
                json.dumps(
                    {"type": "room.joined", "session": session, "status": "live"},
                    separators=(",", ":"),
                )
            )
            async for text in ws:
                payload = json.loads(text)
                kind = payload.get("type")
                if kind == "chat.send":
                    seq = self.seq[path] = self.seq.get(path, 0) + 1
                    sent_at = datetime.now(UTC).isoformat(timespec="microseconds")
                    await ws.send(
                        json.dumps(
                            {
                                "type": "chat.ack",
                                "session": session,
                                "client_id": payload.get("client_id"),
                                "seq": seq,
                                "sent_at": sent_at,
                            },
                            separators=(",", ":"),
                        )
                    )
                    frame = json.dumps(
                        {
                            "type": "chat.message",
                            "session": session,
                            "seq": seq,
                            "client_id": payload.get("client_id"),
                            "author": AUTHOR,
                            "body": payload.get("body"),
                            "question": False,
                            "answered": False,
                            "sent_at": sent_at,
                        },
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                    broadcast(room, frame)
                elif kind == "ping":
                    await ws.send('{"type":"pong"}')
        except Exception:  # noqa: BLE001, S110 (a client that goes away ends its handler)
            pass
        finally:
            room.discard(ws)


async def serve(port: int) -> None:
    from websockets.asyncio.server import serve as ws_serve

    rooms = Rooms()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with ws_serve(
        rooms.handler,
        "127.0.0.1",
        port,
        compression=None,
        max_size=64 * 1024,
    ):
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    die_with_parent()
    raise_fd_limit()
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
