"""Daphne on uvloop: ``python -m fair.serve -b 0.0.0.0 -p 8000 fair.asgi:application``
(the same arguments as ``daphne``). Used by the container image and docker-compose.yml.

Daphne creates its event loop when ``daphne.server`` is imported, under the loop policy in
force, so uvloop's policy is set first. Measured in ``bench/negotiations.py --uvloop``: about
11 % less server CPU per negotiation message (1.39 instead of 1.57 ms) at 500 rooms."""

from __future__ import annotations

import asyncio
import sys


def main() -> None:
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from daphne.cli import CommandLineInterface

    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
