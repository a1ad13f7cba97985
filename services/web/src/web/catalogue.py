"""Keep the portal's catalogues in step with the code: ``python -m web.catalogue``.

Extracts every message (``_``, ``gettext``, ``N_``) from the code and templates with Babel, adds new ones to every
catalogue (empty in Japanese, the id itself in English, the source language) and drops messages no page uses.
A translator then fills in the empty texts; the catalogue test names any still missing.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from web.i18n import LANGUAGES, LOCALE_DIR

SOURCE = Path(__file__).parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "N_": None}


def extract() -> dict[str, list[tuple[str, int]]]:
    """Every message id in use, with where it is used."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _, _ in extract_from_dir(str(SOURCE), METHODS, OPTIONS, keywords=KEYWORDS):
        key = message if isinstance(message, str) else message[0]
        found.setdefault(key, []).append((filename, lineno))
    return found


def update() -> dict[str, list[str]]:
    """Bring every catalogue in step; return the ids still without a text, per language."""
    used = extract()
    missing: dict[str, list[str]] = {}
    for language in LANGUAGES:
        path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
        with open(path, "rb") as handle:
            old = read_po(handle, locale=language)
        new = Catalog(locale=language, project="ras-web", version="1", domain="messages")
        for message_id in sorted(used):
            kept = old.get(message_id)
            text = (
                kept.string if kept is not None and kept.string else ("" if language != "en" else message_id)
            )
            new.add(message_id, text, locations=used[message_id])
            if not text:
                missing.setdefault(language, []).append(message_id)
        with open(path, "wb") as handle:
            write_po(handle, new, width=120)
    return missing


if __name__ == "__main__":
    for lang, ids in update().items():
        print(f"{lang}: {len(ids)} messages need a text")
