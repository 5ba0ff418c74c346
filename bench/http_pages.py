"""HTTP page timings through the real stack (Daphne + Django + PostgreSQL + Redis cache).

Baseline in the same run: ``/healthz`` (a Django view that does no work), so the table shows
what each page costs on top of the bare request path. Bounded: a fixed number of requests per
scenario and client count, loopback only.

    python bench/http_pages.py [--requests 300] [--json bench/results/http_pages.json]
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
from urllib.parse import urlparse

from harness import daphne_server, manage, print_table, server_env, summarise, write_json

PAGES = {
    "baseline_healthz": "/healthz",
    "home": "/",
    "api_categories": "/api/v1/categories/",
    "signup_page": "/accounts/signup/",
}


def run_clients(base_url: str, path: str, total: int, clients: int) -> dict:
    parsed = urlparse(base_url)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = total // clients

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        mine: list[float] = []
        bad = 0
        for _ in range(per_client):
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Language": "en"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarise(latencies, time.perf_counter() - started, errors=errors, clients=clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()

    env = server_env()
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", "--allow-without-debug", env=env)
    manage("collectstatic", "--noinput", env=env)
    scenarios: dict[str, dict] = {}
    with daphne_server(env) as (base_url, _pid):
        for path in PAGES.values():  # warm up caches and connections
            run_clients(base_url, path, 20, 1)
        for clients in (1, 4):
            for name, path in PAGES.items():
                scenarios[f"{name}@{clients}c"] = run_clients(
                    base_url, path, args.requests, clients
                )
    print_table(
        "HTTP pages through Daphne (baseline: /healthz)",
        scenarios,
        ["clients", "count", "errors", "p50_ms", "p95_ms", "p99_ms", "qps"],
    )
    write_json(args.json_path, scenarios, baseline="baseline_healthz")


if __name__ == "__main__":
    main()
