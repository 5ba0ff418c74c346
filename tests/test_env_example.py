"""Every environment variable the settings read is documented in .env.example."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ_PATTERN = re.compile(r"""env_(?:str|bool|int|list)\(\s*"([A-Z][A-Z0-9_]*)\"""")


def settings_variables() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "fair" / "settings").glob("*.py"):
        found |= set(READ_PATTERN.findall(path.read_text()))
    return found


def documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_env_example_lists_every_variable_settings_read():
    read = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "AWS_S3_ENDPOINT_URL"} <= read
    assert sorted(read - documented_variables()) == []


def test_env_example_lists_no_variable_settings_ignore():
    assert sorted(documented_variables() - settings_variables()) == []
