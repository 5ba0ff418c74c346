"""A real CloudFair server for browser tests: Daphne serving ``fair.asgi:application``.

Why a subprocess and not pytest-django's ``live_server`` or Channels'
``ChannelsLiveServerTestCase``: the browser must talk to the same ASGI application production
runs (HTTP *and* websockets, Daphne's protocol handling, the real middleware stack), and a
separate process keeps the test process free of Daphne's Twisted reactor and of the event
loop Playwright's sync API keeps in the test thread.

The server shares the test process's PostgreSQL test database and Redis key prefix, so:

* rows the test commits are visible to the server, and rows the server commits are visible
  to the test (that is why browser tests run on ``transactional_db``: the rows made inside
  the ``db`` fixture's never-committed transaction would be invisible to the server);
* the suite-wide ``cache.clear()`` between tests (tests/conftest.py) clears the server's
  cache and cached sessions too.

``DaphneServer`` is plain Python (no pytest), used by the fixtures in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 20.0  # seconds until the port must answer
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
LOG_TAIL_CHARS = 6000  # how much of the server's output a failure message quotes


class ServerError(RuntimeError):
    """The server did not start, or died: the message quotes the tail of its output."""


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it; there is a tiny window in which
    another process could take it before Daphne binds, which start() reports clearly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def database_url(db_settings: dict) -> str:
    """``postgres://USER[:PASSWORD]@HOST:PORT/NAME`` for one entry of ``settings.DATABASES``.

    Called with the *test* database's settings (pytest-django has replaced NAME by then), so
    the server uses the database the tests write to."""
    user = quote(db_settings.get("USER") or "", safe="")
    password = db_settings.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = db_settings.get("HOST") or "localhost"
    port = db_settings.get("PORT") or 5432
    name = quote(str(db_settings["NAME"]), safe="")
    return f"postgres://{credentials}@{host}:{port}/{name}"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM if pytest dies without running its teardown (kill -9,
    a crashed CI runner), so no orphan keeps the test database open."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class DaphneServer:
    """One Daphne process serving ``fair.asgi:application`` on 127.0.0.1.

    >>> server = DaphneServer(env={...}, log_path=Path("daphne.log"))
    >>> server.start()          # returns once the port answers, or raises ServerError
    >>> server.url              # "http://127.0.0.1:<port>"
    >>> server.stop()           # SIGTERM, then SIGKILL after 5 s

    ``env`` is the server's whole environment. Its stdout and stderr (Daphne's access log,
    Django's logging, tracebacks) go to ``log_path``; ``log_tail()`` reads the end of it.
    """

    def __init__(self, *, env: dict[str, str], log_path: Path, host: str = HOST) -> None:
        self.env = env
        self.log_path = log_path
        self.host = host
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._log_file = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError("The server has not been started.")
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            self.host,
            "-p",
            str(self.port),
            "fair.asgi:application",
        ]

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self.port = free_port(self.host)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            self.command(),
            cwd=PROJECT_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                self._close_log()
                raise ServerError(
                    f"Daphne exited with code {code} before it answered on {self.url}.\n"
                    f"{self.log_tail()}"
                )
            if self._port_answers():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(
                    f"Daphne did not answer on {self.url} within {timeout:.0f} s.\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.1)

    def _port_answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def check_alive(self) -> None:
        """Raise ServerError (with the server's output) if the process has exited."""
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise ServerError(
                f"The Daphne server is not running (exit code {code}).\n{self.log_tail()}"
            )

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Safe to call twice."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_size(self) -> int:
        """How many bytes of output the server has written so far (see ``log_since``)."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int, chars: int = LOG_TAIL_CHARS) -> str:
        """The server's output written after ``offset`` bytes (its last ``chars`` characters)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"(no server output: {exc})"
        return text if len(text) <= chars else "…" + text[-chars:]

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(no server output: {exc})"
        if len(text) > chars:
            text = "…" + text[-chars:]
        return f"--- server output ({self.log_path}) ---\n{text or '(empty)'}"
