"""Shared pieces of the benchmarks: a real Daphne server on loopback, latency statistics,
the printed table and the ``--json`` file (``{"scenarios": {name: {"p50_ms": ...}}}``)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off) on the DATABASE_URL / REDIS_URL of the caller."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="fair.settings.base",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE="0",
        LOG_LEVEL="WARNING",
        # The benchmark measures latency, not the per-address API limit (100/min by default).
        API_THROTTLE_ANON="1000000/min",
        API_THROTTLE_USER="1000000/min",
        # Benchmarks sign organisers in directly (a session), without an authenticator app.
        MFA_REQUIRED="0",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


@contextmanager
def daphne_server(env: dict[str, str], timeout: float = 20.0):
    """Start ``daphne fair.asgi:application`` on a free loopback port; yield its base URL."""
    port = free_port()
    # Its output goes to a file, never to a pipe nobody reads: a full pipe would freeze it.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "--verbosity",
            "0",
            "fair.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    err = log.read().decode(errors="replace")
                    raise RuntimeError(f"Daphne did not start: {err[-2000:]}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarise(latencies_s: list[float], wall_s: float, errors: int = 0, **extra) -> dict:
    values = sorted(v * 1000 for v in latencies_s)
    return {
        "count": len(values),
        "errors": errors,
        "p50_ms": round(percentile(values, 0.50), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
        "max_ms": round(values[-1], 2) if values else None,
        "mean_ms": round(statistics.fmean(values), 2) if values else None,
        "qps": round(len(values) / wall_s, 1) if wall_s > 0 else None,
        **extra,
    }


def print_table(title: str, scenarios: dict[str, dict], columns: list[str]) -> None:
    print(f"\n{title}")
    header = ["scenario", *columns]
    rows = [
        [name, *(str(result.get(col, "")) for col in columns)] for name, result in scenarios.items()
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def write_json(path: str | None, scenarios: dict[str, dict], **top_level) -> None:
    if not path:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"scenarios": scenarios, **top_level}, indent=2))
