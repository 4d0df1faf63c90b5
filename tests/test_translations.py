"""Every language we list has every string, with its placeholders intact."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app import TRANSLATIONS_DIR
from app.i18n import CODES, DEFAULT

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    method_map = [("app/**.py", "python"), ("app/**/templates/**.html", "jinja2"),
                  ("app/**/templates/**.txt", "jinja2")]
    options = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern, _ in method_map[1:]}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.fixture(scope="module")
def source_messages() -> set[str]:
    return _source_messages()


@pytest.mark.parametrize("code", [code for code in CODES if code != DEFAULT])
def test_catalogue_is_complete(code, source_messages):
    path = Path(TRANSLATIONS_DIR) / code / "LC_MESSAGES" / "messages.po"
    catalog = read_po(BytesIO(path.read_bytes()), locale=code)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    missing = sorted(source_messages - set(translated))
    assert not missing, f"{code}: not in the catalogue (run `make translations`): {missing}"
    untranslated = sorted(
        msgid
        for msgid in source_messages
        if translated[msgid].fuzzy
        or not all(
            translated[msgid].string
            if isinstance(translated[msgid].string, tuple)
            else [translated[msgid].string]
        )
    )
    assert not untranslated, f"{code}: untranslated or fuzzy: {untranslated}"
    problems = [(m.id, str(error)) for m in catalog if m.id for error in m.check(catalog)]
    assert not problems, f"{code}: placeholder problems: {problems}"


def test_source_strings_were_found(source_messages):
    assert "Skip to main content" in source_messages
    assert "Password must be at least %(count)d characters." in source_messages
