"""The production static build: collectstatic with the compressed manifest storage (what
DEBUG off serves) succeeds, so every file a stylesheet or script references exists."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_collectstatic_with_the_manifest_storage(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fair.settings.base",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT_DIR": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    manifest = tmp_path / "static" / "staticfiles.json"
    assert manifest.exists()
    assert '"fair/js/dashboard.js"' in manifest.read_text()
