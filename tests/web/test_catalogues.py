"""Every message of the portal is in the Japanese and the English catalogue (Babel extraction over the code)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from web.i18n import LANGUAGES, LOCALE_DIR, catalogue

pytestmark = pytest.mark.unit

SOURCE = Path(__file__).resolve().parents[2] / "services" / "web" / "src" / "web"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}


def used_messages() -> set[str]:
    """Every message id the code and the templates use (``_``, ``gettext`` and ``N_``)."""
    keywords = {"_": None, "gettext": None, "N_": None}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(SOURCE), METHODS, OPTIONS, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_japanese_and_an_english_text() -> None:
    used = used_messages()
    assert len(used) > 50
    for language in LANGUAGES:
        messages = catalogue(language).messages
        missing = sorted(m for m in used if not messages.get(m))
        assert not missing, f"{language}: no translation for {missing}"
        stale = sorted(set(messages) - used)
        assert not stale, f"{language}: messages no page uses any more: {stale}"


def test_the_japanese_catalogue_is_japanese_and_furigana_are_well_formed() -> None:
    messages = catalogue("ja").messages
    for message_id, text in messages.items():
        assert isinstance(text, str)
        assert any("\u3040" <= ch <= "\u9fff" for ch in text), message_id
        assert text.count("[") == text.count("]") == text.count("|"), message_id


def test_catalogues_are_plain_po_files_a_translator_can_edit() -> None:
    for language in LANGUAGES:
        assert (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").is_file()
