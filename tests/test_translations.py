"""The Polish catalogue covers what the pages show: every word of the pygeoapi (Jinja) templates is listed
for makemessages, and each has a Polish translation."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from ogc.ogcapi.template_messages import TEMPLATE_MESSAGES

TEMPLATES = Path(__file__).resolve().parents[1] / "ogc" / "ogcapi" / "templates" / "pygeoapi"
TRANS = re.compile(r"{%-?\s*trans\s*-?%}(.*?){%-?\s*endtrans\s*-?%}", re.S)
CALL = re.compile(r"""_\(\s*(['"])(.*?)\1\s*\)""")


def _template_words() -> set[str]:
    words: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        words |= {m.group(1) for m in TRANS.finditer(text)} | {m.group(2) for m in CALL.finditer(text)}
    return words


def test_every_word_of_the_pygeoapi_templates_is_listed_for_makemessages():
    assert _template_words() and _template_words() <= set(TEMPLATE_MESSAGES)


def test_every_listed_word_has_a_polish_translation():
    with translation.override("pl"):
        untranslated = [m for m in TEMPLATE_MESSAGES if translation.gettext(m) == m]
    assert untranslated == []
