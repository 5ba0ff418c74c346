"""The negotiation benchmark's baseline: a bare one-to-one relay written with ``websockets``.

    python bench/nego_baseline.py --port 9001

The floor plain Python reaches for the same traffic, measured in the same run with the same
load generator (``bench/negotiations.py``). A socket names its rooms and its side in the
query string (``/ws/negotiations/?rooms=12&side=buyer&user=7``: no cookie, no database, no
channel layer, no permission check beyond "is this socket in that room"). On ``nego.send``
it numbers the message in its room, acks the sender with a ``nego.ack`` and writes one
``nego.message`` frame of the real shape to every socket of the room (the other party and
the sender, as the real protocol does). It greets each socket with ``nego.ready`` and
answers ``ping``. One process cannot reach another's sockets, so the bench keeps both
parties of a room on the same baseline process."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from chat_load import die_with_parent, raise_fd_limit


def _json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class Rooms:
    def __init__(self) -> None:
        self.sockets: dict[int, set] = {}
        self.seq: dict[int, int] = {}

    async def handler(self, ws) -> None:
        from websockets.asyncio.server import broadcast

        query = parse_qs(urlsplit(ws.request.path).query)
        rooms = [int(r) for r in query.get("rooms", [""])[0].split(",") if r]
        side = query.get("side", ["buyer"])[0]
        user = int(query.get("user", ["0"])[0])
        author = {"id": user, "name": f"Bench {side.title()} {user}"}
        for room in rooms:
            self.sockets.setdefault(room, set()).add(ws)
        try:
            await ws.send('{"type":"nego.ready","unread":0}')
            async for text in ws:
                payload = json.loads(text)
                kind = payload.get("type")
                if kind == "nego.send":
                    room = payload.get("negotiation")
                    if room not in rooms:
                        await ws.send(
                            _json({"type": "error", "code": "not_found", "negotiation": room})
                        )
                        continue
                    seq = self.seq[room] = self.seq.get(room, 0) + 1
                    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds")
                    sent_at = sent_at.replace("+00:00", "Z")
                    client_id = payload.get("client_id")
                    await ws.send(
                        _json(
                            {
                                "type": "nego.ack",
                                "negotiation": room,
                                "client_id": client_id,
                                "seq": seq,
                                "sent_at": sent_at,
                            }
                        )
                    )
                    frame = _json(
                        {
                            "type": "nego.message",
                            "negotiation": room,
                            "seq": seq,
                            "client_id": client_id,
                            "kind": "text",
                            "side": side,
                            "author": author,
                            "body": payload.get("body"),
                            "event": "",
                            "sent_at": sent_at,
                            "attachment": None,
                            "quote": None,
                        }
                    )
                    broadcast(self.sockets[room], frame)
                elif kind == "ping":
                    await ws.send('{"type":"pong"}')
        except Exception:  # noqa: BLE001, S110 (a client that goes away ends its handler)
            pass
        finally:
            for room in rooms:
                self.sockets.get(room, set()).discard(ws)


async def serve(port: int) -> None:
    from websockets.asyncio.server import serve as ws_serve

    rooms = Rooms()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with ws_serve(rooms.handler, "127.0.0.1", port, compression=None, max_size=64 * 1024):
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
