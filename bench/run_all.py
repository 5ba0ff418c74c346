"""Run every benchmark in bench/ with its default bounds; figures go to bench/results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ("http_pages.py",),
    ("import.py",),
    ("search.py",),
    ("chat_fanout.py",),
    # Daphne on uvloop, as the container image runs it (fair/serve.py).
    ("negotiations.py", "--uvloop"),
    ("dashboard.py",),
]


def main() -> int:
    failed = 0
    for script, *options in BENCHMARKS:
        name = Path(script).stem
        print(f"== {name}", flush=True)
        result = subprocess.run(
            [
                sys.executable,
                str(HERE / script),
                *options,
                "--json",
                str(HERE / "results" / f"{name}.json"),
            ],
            cwd=HERE,
            check=False,
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
