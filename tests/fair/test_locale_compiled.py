"""The compiled catalogues (.mo, what Django reads) say what the sources (.po) say: a
translation edited without compilemessages would leave pages in English."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent.parent / "locale"
LANGUAGES = sorted(path.name for path in LOCALE.iterdir() if (path / "LC_MESSAGES").is_dir())


@pytest.mark.parametrize("language", LANGUAGES)
def test_mo_matches_po(language):
    folder = LOCALE / language / "LC_MESSAGES"
    source = polib.pofile(str(folder / "django.po"))
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = []
    for entry in source.translated_entries():
        if entry.msgid_plural:
            for n in (0, 1, 2, 5, 11, 100):
                got = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                if got != entry.msgstr_plural[compiled.plural(n)]:
                    stale.append(entry.msgid[:60])
            continue
        got = (
            compiled.pgettext(entry.msgctxt, entry.msgid)
            if entry.msgctxt
            else compiled.gettext(entry.msgid)
        )
        want = entry.msgstr
        if got != want:
            stale.append(entry.msgid[:60])
    assert stale == [], f"{language}: run compilemessages ({len(stale)} stale)"
    assert len(source.translated_entries()) > 1000
