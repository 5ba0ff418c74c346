"""Before the suite runs: are PostgreSQL and Redis reachable? Says so clearly if not."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

import psycopg2
import redis


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    problems = []
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must point to PostgreSQL (the tests use it for real).")
    else:
        parsed = urlparse(database_url)
        try:
            psycopg2.connect(
                host=parsed.hostname,
                port=parsed.port or 5432,
                user=parsed.username or "postgres",
                password=parsed.password or None,
                dbname="postgres",
                connect_timeout=5,
            ).close()
        except psycopg2.Error as exc:
            where = f"{parsed.hostname}:{parsed.port or 5432}"
            problems.append(f"PostgreSQL at {where} is not reachable: {exc}")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        problems.append(f"Redis at {redis_url!r} is not reachable: {exc}")
    for problem in problems:
        print(f"make test: {problem}", file=sys.stderr)
    if problems:
        print(
            "Start PostgreSQL and Redis on 127.0.0.1 (see README, 'Running the tests'), or set "
            "DATABASE_URL and REDIS_URL.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
