"""Languages of the portal: gettext catalogues (Babel ``.po`` files), negotiation, and dates as people write them.

A translator adds a language by adding ``locale/<code>/LC_MESSAGES/messages.po`` and its code to ``LANGUAGES``;
no template changes. Message ids are the English texts.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.messages.pofile import read_po

LANGUAGES = ("ja", "en")
DEFAULT = "ja"
LOCALE_DIR = Path(__file__).parent / "locale"
JST = ZoneInfo("Asia/Tokyo")
_WEEKDAYS_JA = "月火水木金土日"


class Catalogue:
    """The translations of one language."""

    def __init__(self, language: str, messages: dict[str, str | tuple[str, ...]]) -> None:
        self.language = language
        self.messages = messages

    def gettext(self, message: str) -> str:
        """Translate ``message``; an id with no translation is shown as it is (tests forbid that)."""
        found = self.messages.get(message)
        return found if isinstance(found, str) and found else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message with a count."""
        found = self.messages.get(singular)
        if isinstance(found, tuple) and found:
            return found[0] if (n == 1 or len(found) == 1) else found[1]
        return singular if n == 1 else plural


@cache
def catalogue(language: str) -> Catalogue:
    """Load a language's catalogue once."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        po = read_po(handle, locale=language)
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in po:
        if not message.id:
            continue
        key = str(message.id) if isinstance(message.id, str) else str(message.id[0])
        text = message.string
        messages[key] = text if isinstance(text, str) else tuple(str(t) for t in (text or ()))
    return Catalogue(language, messages)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The chosen language: the remembered choice, else the browser's first known language, else Japanese."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def format_day(value: date | datetime | str | None, language: str) -> str:
    """A date as people write it: 2026年12月29日（火） or 29 December 2026 (times in Japan's time zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(JST).date() if value.tzinfo else value.date()
    if language == "ja":
        return f"{value.year}年{value.month}月{value.day}日（{_WEEKDAYS_JA[value.weekday()]}）"
    return format_date(value, "d MMMM y", locale="en")


def format_time(value: datetime | str | None, language: str) -> str:
    """A moment as a date and a time in Japan."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(JST)
    return f"{format_day(local.date(), language)} {local:%H:%M}"
