"""cProfile of one server process for ``bench/negotiations.py --profile DIR``.

    python bench/nego_profile.py OUTPUT_PREFIX module [args...]

Runs ``module`` (``daphne``) as ``python -m`` would, with two kinds of cProfile profilers,
both on only while profiling is switched on (``SIGUSR1`` toggles it: the bench sends it at
the start and the end of the measured window, so start-up and connecting are left out):

* the event loop (main thread): one profiler, enabled and disabled by the signal handler;
* the database thread(s): cProfile sees only the thread that enabled it, and every query of
  a consumer runs in asgiref's executor thread (``database_sync_to_async``), so
  ``SyncToAsync.thread_handler`` is wrapped to run each call under that thread's own
  profiler while profiling is on. Times there are wall times: a thread waiting for
  PostgreSQL or Redis, or for the event loop (``async_to_sync`` broadcasts on commit), is
  what limits a process whose database work is serialised on one thread.

When the server stops it writes ``OUTPUT_PREFIX.txt`` (per group: the top functions by own
time and by cumulative time, with call counts: divide by the messages of the window for
"per message") and ``OUTPUT_PREFIX-loop.prof`` / ``OUTPUT_PREFIX-db.prof`` (``pstats``
files, e.g. for snakeviz). cProfile slows the process down several times: a profiled run's
latencies are not the figures, only where the time goes."""

from __future__ import annotations

import cProfile
import io
import pstats
import runpy
import signal
import sys
import threading


class Profiles:
    def __init__(self) -> None:
        self.on = False
        self.loop = cProfile.Profile()
        self.threads: dict[int, cProfile.Profile] = {}
        self.lock = threading.Lock()

    def toggle(self, signum=None, frame=None) -> None:
        self.on = not self.on
        if self.on:
            self.loop.enable()
        else:
            self.loop.disable()

    def for_thread(self) -> cProfile.Profile:
        ident = threading.get_ident()
        profile = self.threads.get(ident)
        if profile is None:
            with self.lock:
                profile = self.threads.setdefault(ident, cProfile.Profile())
        return profile

    def install(self) -> None:
        from asgiref import sync

        original = sync.SyncToAsync.thread_handler
        profiles = self

        def thread_handler(self, *args, **kwargs):
            if not profiles.on:
                return original(self, *args, **kwargs)
            profile = profiles.for_thread()
            profile.enable()
            try:
                return original(self, *args, **kwargs)
            finally:
                profile.disable()

        sync.SyncToAsync.thread_handler = thread_handler

    def write(self, prefix: str) -> None:
        if self.on:
            self.loop.disable()
        out = io.StringIO()
        groups = [("event loop (main thread)", [self.loop], f"{prefix}-loop.prof")]
        groups.append(("database thread(s)", list(self.threads.values()), f"{prefix}-db.prof"))
        for title, profiles, path in groups:
            stats = None
            for profile in profiles:
                profile.create_stats()
                if not profile.stats:
                    continue
                if stats is None:
                    stats = pstats.Stats(profile, stream=out)
                else:
                    stats.add(profile)
            out.write(f"\n===== {title}\n")
            if stats is None:
                out.write("(no samples)\n")
                continue
            stats.dump_stats(path)
            stats.strip_dirs()
            out.write("\n----- by own time\n")
            stats.sort_stats("tottime").print_stats(35)
            out.write("\n----- by cumulative time\n")
            stats.sort_stats("cumulative").print_stats(45)
        with open(prefix + ".txt", "w") as report:
            report.write(out.getvalue())


def main() -> None:
    prefix, module = sys.argv[1], sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    profiles = Profiles()
    profiles.install()
    signal.signal(signal.SIGUSR1, profiles.toggle)
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiles.write(prefix)


if __name__ == "__main__":
    main()
