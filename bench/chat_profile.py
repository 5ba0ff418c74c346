"""A sampling profiler for the chat benchmark's server processes (``--profile DIR``).

    python bench/chat_profile.py OUTPUT_PREFIX module [args...]

Runs ``module`` (``daphne`` or ``uvicorn``) as ``python -m`` would, with a thread that
samples the Python stacks of *every* thread every 5 ms while sampling is on; ``SIGUSR1``
switches it on and off (the bench sends it at the start and the end of the measured window,
so start-up and connecting are left out). cProfile would see the main thread only, and the
database work of ``database_sync_to_async`` runs in another thread. When the server stops
it writes ``OUTPUT_PREFIX.txt`` (per thread group: where samples were taken, busy ones
only, by innermost function and by function anywhere on the stack) and
``OUTPUT_PREFIX.folded`` (collapsed stacks for a flame graph). A sample whose innermost
frame is the event loop waiting in ``select`` or an executor thread waiting for work counts
as idle. A thread waiting for PostgreSQL or Redis counts as busy there: for the one database
thread per process, wall time is what limits throughput."""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time
from collections import Counter

INTERVAL = 0.005
IDLE = (
    ("selectors.py", "select"),  # the event loop with nothing to do
    ("threading.py", "wait"),  # an executor thread with no work
    ("queue.py", "get"),
    ("thread.py", "_worker"),
)


class Sampler:
    def __init__(self, main_ident: int) -> None:
        self.main_ident = main_ident
        self.on = False
        self.samples = 0
        self.stacks: dict[str, Counter] = {"event loop": Counter(), "other threads": Counter()}

    def toggle(self, signum=None, frame=None) -> None:
        self.on = not self.on

    def run(self) -> None:
        me = threading.get_ident()
        root = os.path.dirname(os.__file__)
        while True:
            time.sleep(INTERVAL)
            if not self.on:
                continue
            self.samples += 1
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                stack = []
                while frame is not None and len(stack) < 80:
                    code = frame.f_code
                    name = code.co_filename
                    for prefix in (root + "/site-packages/", root + "/", os.getcwd() + "/"):
                        if name.startswith(prefix):
                            name = name[len(prefix) :]
                            break
                    stack.append((name, code.co_name, frame.f_lineno))
                    frame = frame.f_back
                group = "event loop" if ident == self.main_ident else "other threads"
                self.stacks[group][tuple(reversed(stack))] += 1

    def write(self, prefix: str) -> None:
        lines = [f"samples every {INTERVAL * 1000:.0f} ms while on: {self.samples}"]
        with open(prefix + ".folded", "w") as folded:
            for group, stacks in self.stacks.items():
                busy = {
                    s: n
                    for s, n in stacks.items()
                    if s and (os.path.basename(s[-1][0]), s[-1][1]) not in IDLE
                }
                total, busy_total = sum(stacks.values()), sum(busy.values())
                lines.append(f"\n== {group}: {busy_total} busy of {total} samples")
                leaf: Counter = Counter()
                anywhere: Counter = Counter()
                for stack, n in busy.items():
                    leaf[f"{stack[-1][0]}:{stack[-1][1]}:{stack[-1][2]}"] += n
                    for name in {f"{f[0]}:{f[1]}" for f in stack}:
                        anywhere[name] += n
                    folded.write(
                        group.replace(" ", "_")
                        + ";"
                        + ";".join(f"{f[0]}:{f[1]}" for f in stack)
                        + f" {n}\n"
                    )
                lines.append("-- innermost frame (self)")
                for name, n in leaf.most_common(25):
                    lines.append(f"{100 * n / max(1, busy_total):6.1f}%  {name}")
                lines.append("-- anywhere on the stack (inclusive)")
                for name, n in anywhere.most_common(45):
                    lines.append(f"{100 * n / max(1, busy_total):6.1f}%  {name}")
        with open(prefix + ".txt", "w") as report:
            report.write("\n".join(lines) + "\n")


def main() -> None:
    prefix, module = sys.argv[1], sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    sampler = Sampler(threading.get_ident())
    signal.signal(signal.SIGUSR1, sampler.toggle)
    threading.Thread(target=sampler.run, name="sampler", daemon=True).start()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        sampler.write(prefix)


if __name__ == "__main__":
    main()
