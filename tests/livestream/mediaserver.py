"""The project's real media server for tests: Debian's nginx with the RTMP module running
``deploy/nginx-rtmp.conf``, and a Daphne server taking its publish callbacks.

``deploy/nginx-rtmp.conf`` is rendered for a test by replacing a few exact lines (ports,
folders, the Django address and the callback secret, see ``render_config``); each must be
found exactly as expected, so a change to the production file that the rendering does not
know about fails the tests loudly instead of testing something else. Everything else (the
RTMP application, HLS settings, recording, the loopback callback relay adding the secret
header, the HTTP server's headers) is the production file as is.

::

    with media_stack(secret="...") as stack:      # Daphne + nginx on free loopback ports
        push = stack.media.push(public_id, key, seconds=8)
        ...
        stack.media.hls_url(public_id)           # http://127.0.0.1:<port>/hls/<id>.m3u8

Used by tests/livestream/test_ingest.py and tests/e2e/test_live_playback.py. Plain Python:
the fixtures live in the test modules. Processes are stopped by PID (nginx with
``kill -QUIT`` of its master, Daphne with SIGTERM, ffmpeg with SIGINT then SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.liveserver import DaphneServer, ServerError, _die_with_parent

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx-rtmp.conf"
NGINX = "/usr/sbin/nginx"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
FFMPEG = "ffmpeg"
HOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports nobody listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


START_TIMEOUT = 15.0  # seconds until nginx answers on its ports
STOP_TIMEOUT = 10.0  # seconds after kill -QUIT before a fast shutdown (SIGTERM)


class MediaServerError(RuntimeError):
    """nginx did not start or its configuration was refused: the message quotes its log."""


def _require(text: str, old: str, new: str, *, count: int = 1) -> str:
    found = text.count(old)
    if found != count:
        raise MediaServerError(
            f"deploy/nginx-rtmp.conf: expected {count} occurrence(s) of {old!r}, found "
            f"{found}. Update tests/livestream/mediaserver.py render_config() to match."
        )
    return text.replace(old, new)


def render_config(
    template: str,
    *,
    root: Path,
    rtmp_port: int,
    http_port: int,
    relay_port: int,
    django_origin: str,
    secret: str,
    control_port: int,
) -> str:
    """The production config with loopback ports, folders under ``root`` and the test's
    Django server. ``root/hls`` holds the HLS files (served at ``/hls/``, as in production
    where the root is ``/var``), ``root/rec`` the recordings."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", secret):
        raise ValueError("The callback secret must be URL-safe (A-Z a-z 0-9 _ -).")
    text = template
    if os.geteuid() != 0:
        # Only a root master can switch users; otherwise nginx would warn and ignore it.
        text = _require(text, "\nuser www-data;\n", "\n")
    text = _require(text, "pid /run/nginx-rtmp.pid;", f"pid {root}/nginx.pid;")
    text = _require(text, "error_log /dev/stderr warn;", f"error_log {root}/error.log warn;")
    text = _require(text, "listen 1935;", f"listen {HOST}:{rtmp_port};")
    text = _require(text, "record_path /var/rec;", f"record_path {root}/rec;")
    text = _require(text, "hls_path /var/hls;", f"hls_path {root}/hls;")
    text = _require(text, "listen 8080;", f"listen {HOST}:{http_port};")
    text = _require(text, "root /var;", f"root {root};")
    relay = f"http://{HOST}:{relay_port}/"
    text = _require(text, "on_publish http://127.0.0.1:8081/", f"on_publish {relay}")
    text = _require(text, "on_publish_done http://127.0.0.1:8081/", f"on_publish_done {relay}")
    text = _require(text, "on_update http://127.0.0.1:8081/", f"on_update {relay}")
    text = _require(text, "listen 127.0.0.1:8081;", f"listen {HOST}:{relay_port};")
    text = _require(text, "listen 8082;", f"listen {HOST}:{control_port};")
    # The general relay location and the on_update one.
    text = _require(text, "proxy_pass http://web:8000;", f"proxy_pass {django_origin};", count=2)
    # The two relay locations send it; the control endpoint checks it.
    text = _require(text, "__MEDIA_STREAM_CALLBACK_SECRET__", secret, count=3)
    # Temporary files of the HTTP servers (the compiled-in defaults are under /var/lib/nginx).
    temp_paths = "".join(
        f"\n    {name}_temp_path {root}/tmp/{name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return _require(text, "\nhttp {\n", f"\nhttp {{{temp_paths}\n")


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen | None, *, first: int, timeout: float) -> None:
    """Send ``first`` to the process by its PID, wait, then SIGTERM, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((first, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class MediaServer:
    """A private nginx running the rendered production config. ``start()`` runs
    ``nginx -t`` first, then ``nginx -c <conf> -p <root> -g "daemon off;"`` (so the Popen is
    the master process); ``stop()`` sends it ``kill -QUIT`` and waits."""

    def __init__(self, *, django_origin: str, secret: str) -> None:
        if not RTMP_MODULE.exists() or shutil.which(NGINX) is None:
            raise MediaServerError(
                "nginx with the RTMP module is missing: apt-get install -y nginx "
                "libnginx-mod-rtmp (CI's .ci/run installs both)."
            )
        # Not under pytest's tmp_path: that is mode 0700 (root only) and nginx's workers
        # run as www-data, as in production. They need to reach and write hls/ and rec/.
        self.root = Path(tempfile.mkdtemp(prefix="cloudfair-media-"))
        self.root.chmod(0o755)
        for name in ("hls", "rec", "tmp"):
            (self.root / name).mkdir()
            (self.root / name).chmod(0o777)
        # Four different ports: each socket is held open until all are chosen (picked one
        # after the other, the OS may hand out the same port twice).
        self.rtmp_port, self.http_port, self.relay_port, self.control_port = free_ports(4)
        self.django_origin = django_origin
        self.secret = secret
        self.config_path = self.root / "nginx-rtmp.conf"
        self.log_path = self.root / "error.log"
        self.process: subprocess.Popen | None = None

    # --- Addresses ---------------------------------------------------------------------

    @property
    def hls_dir(self) -> Path:
        return self.root / "hls"

    @property
    def recordings_dir(self) -> Path:
        return self.root / "rec"

    @property
    def hls_base_url(self) -> str:
        return f"http://{HOST}:{self.http_port}/hls"

    @property
    def rtmp_base_url(self) -> str:
        return f"rtmp://{HOST}:{self.rtmp_port}/live"

    @property
    def control_url(self) -> str:
        """``MEDIA_CONTROL_URL`` for this server."""
        return f"http://{HOST}:{self.control_port}/control"

    def hls_url(self, public_id: str) -> str:
        return f"{self.hls_base_url}/{public_id}.m3u8"

    def publish_url(self, public_id: str, key: str) -> str:
        return f"{self.rtmp_base_url}/{public_id}?key={key}"

    # --- Life cycle --------------------------------------------------------------------

    def configure(self, django_origin: str | None = None) -> None:
        if django_origin is not None:
            self.django_origin = django_origin
        self.config_path.write_text(
            render_config(
                CONFIG_TEMPLATE.read_text(),
                root=self.root,
                rtmp_port=self.rtmp_port,
                http_port=self.http_port,
                relay_port=self.relay_port,
                django_origin=self.django_origin,
                secret=self.secret,
                control_port=self.control_port,
            )
        )
        self.config_path.chmod(0o600)  # it holds the callback secret, as in production

    def _nginx(self, *args: str) -> list[str]:
        return [NGINX, "-c", str(self.config_path), "-p", f"{self.root}/", *args]

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self.configure()
        check = subprocess.run(
            self._nginx("-t", "-q"), capture_output=True, text=True, timeout=30, check=False
        )
        if check.returncode != 0:
            raise MediaServerError(f"nginx -t refused the rendered config:\n{check.stderr}")
        log = open(self.root / "nginx.out", "ab")  # noqa: SIM115 (closed below)
        try:
            self.process = subprocess.Popen(
                self._nginx("-g", "daemon off;"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise MediaServerError(
                    f"nginx exited with {self.process.returncode}.\n{self.log_tail()}"
                )
            ports = (self.rtmp_port, self.http_port, self.relay_port, self.control_port)
            if all(_port_answers(p) for p in ports):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise MediaServerError(
                    f"nginx did not answer in {timeout:.0f} s.\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """``kill -QUIT <master pid>`` (graceful: workers finish, recordings are closed)."""
        stop_process(self.process, first=signal.SIGQUIT, timeout=STOP_TIMEOUT)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        parts = []
        for name in ("error.log", "nginx.out"):
            with contextlib.suppress(OSError):
                parts.append((self.root / name).read_text(errors="replace"))
        return "\n".join(parts)

    def log_tail(self, chars: int = 4000) -> str:
        text = self.log_text()
        return f"--- nginx log ({self.root}) ---\n{text[-chars:] or '(empty)'}"

    # --- Encoders ----------------------------------------------------------------------

    def push(
        self, public_id: str, key: str, *, seconds: float, size: str = "640x360"
    ) -> subprocess.Popen:
        """ffmpeg publishing ``seconds`` of test picture and a 440 Hz tone in real time
        (the RECIPES.md command) to ``rtmp://127.0.0.1:<port>/live/<public id>?key=<key>``.
        Its output goes to ``<root>/ffmpeg-<n>.log``; stop it with ``stop_push``."""
        log_path = self.root / f"ffmpeg-{time.monotonic_ns()}.log"
        with open(log_path, "ab") as log:
            return subprocess.Popen(
                ffmpeg_push_command(self.publish_url(public_id, key), seconds=seconds, size=size),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )

    def fetch(self, url: str, timeout: float = 5.0) -> tuple[int, bytes, dict[str, str]]:
        """GET ``url``: (status, body, headers); 4xx/5xx answers are returned, not raised."""
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)


def ffmpeg_push_command(url: str, *, seconds: float, size: str = "640x360") -> list[str]:
    return [
        FFMPEG,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "warning",
        "-re",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={size}:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        "-f",
        "flv",
        url,
    ]


def stop_push(process: subprocess.Popen | None) -> None:
    """Stop an ffmpeg push by its PID: SIGINT (ffmpeg closes the stream cleanly), then
    SIGTERM and SIGKILL."""
    stop_process(process, first=signal.SIGINT, timeout=5.0)


def make_test_flv(path: Path, *, seconds: float = 3, timeout: float = 60) -> Path:
    """A short FLV like the media server records (H.264 + AAC test picture and tone),
    written as fast as ffmpeg can (no ``-re``)."""
    command = ffmpeg_push_command(str(path), seconds=seconds, size="320x180")
    command.remove("-re")
    subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=True
    )
    return path


def media_duration(path: Path, timeout: float = 30) -> float:
    """The container duration ffprobe reads, in seconds."""
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "default=noprint_wrappers=1:nokey=1",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return float(result.stdout.strip())


def media_streams(path: Path, timeout: float = 30) -> list[str]:
    """The codec names of a media file's streams, e.g. ``["h264", "aac"]``."""
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "default=noprint_wrappers=1:nokey=1",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout.split()


# --- Daphne + nginx together -------------------------------------------------------------


@dataclass
class MediaStack:
    daphne: DaphneServer
    media: MediaServer
    secret: str

    @property
    def url(self) -> str:
        return self.daphne.url


def daphne_env(*, extra: dict[str, str]) -> dict[str, str]:
    """The environment tests/e2e/conftest.py gives its Daphne server (the test settings,
    database and Redis key prefix), plus ``extra``. Call after ``django_db_setup``."""
    from django.conf import settings

    from tests.e2e.liveserver import database_url

    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        # The test process's own settings module (fair.settings.test in the suite).
        DJANGO_SETTINGS_MODULE=settings.SETTINGS_MODULE or "fair.settings.test",
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        REDIS_URL=settings.REDIS_URL,
        REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@contextlib.contextmanager
def media_stack(*, secret: str, log_dir: Path) -> Iterator[MediaStack]:
    """Daphne (``fair.asgi``, test settings, the test database) configured for the media
    server: the callback secret, ``MEDIA_RECORDINGS_DIR``, ``MEDIA_HLS_URL`` and
    ``MEDIA_RTMP_URL`` point at the nginx started next, whose callbacks go to that Daphne
    through the config's own loopback relay (``Host: web``, as in production, so "web" is
    an allowed host). Both are stopped, and nginx's folders removed, on exit."""
    media = MediaServer(django_origin="http://127.0.0.1:0", secret=secret)
    daphne = None
    try:
        daphne = DaphneServer(
            env=daphne_env(
                extra={
                    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,web",
                    "MEDIA_STREAM_CALLBACK_SECRET": secret,
                    "MEDIA_RECORDINGS_DIR": str(media.recordings_dir),
                    "MEDIA_HLS_URL": media.hls_base_url,
                    "MEDIA_RTMP_URL": media.rtmp_base_url,
                }
            ),
            log_path=log_dir / "daphne.log",
        )
        try:
            daphne.start()
        except ServerError as exc:
            raise MediaServerError(str(exc)) from exc
        media.configure(django_origin=daphne.url)
        media.start()
        yield MediaStack(daphne=daphne, media=media, secret=secret)
    finally:
        media.cleanup()
        if daphne is not None:
            daphne.stop()
