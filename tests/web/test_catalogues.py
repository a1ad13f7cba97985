"""Every message of the portal is in the Japanese and the English catalogue (Babel extraction over the code;
``python -m web.catalogue`` brings the catalogues in step)."""

from __future__ import annotations

import pytest

from web.catalogue import extract
from web.i18n import LANGUAGES, LOCALE_DIR, catalogue

pytestmark = pytest.mark.unit


def test_every_message_has_a_japanese_and_an_english_text() -> None:
    used = set(extract())
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
