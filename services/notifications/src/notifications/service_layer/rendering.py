"""Rendering of e-mails from Jinja2 templates in Japanese and English, plain text and HTML.

Each template is a folder ``templates/<name>/`` with ``subject.<locale>.txt``, ``body.<locale>.txt`` and optionally
``body.<locale>.html``. When the recipient's language is unknown, one mail carries Japanese first, then English.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications.config import MailSettings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LOCALES = ("ja", "en")

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedMail:
    """A mail ready to send."""

    subject: str
    text: str
    html: str | None


def template_names() -> list[str]:
    """Return every template's name."""
    return sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir())


def _one(name: str, locale: str, context: dict[str, Any]) -> RenderedMail:
    subject = _env.get_template(f"{name}/subject.{locale}.txt").render(context).strip()
    text = _env.get_template(f"{name}/body.{locale}.txt").render(context)
    html_path = TEMPLATES / name / f"body.{locale}.html"
    html = _env.get_template(f"{name}/body.{locale}.html").render(context) if html_path.exists() else None
    return RenderedMail(subject, text, html)


def render(name: str, locale: str | None, context: dict[str, Any], mail: MailSettings) -> RenderedMail:
    """Render template ``name`` in the recipient's language, or in both when it is unknown."""
    ctx = {**context, "mail": mail}
    if locale in LOCALES:
        return _one(name, locale, ctx)
    ja, en = _one(name, "ja", ctx), _one(name, "en", ctx)
    html = None
    if ja.html and en.html:
        html = f"{ja.html}\n<hr>\n{en.html}"
    return RenderedMail(
        f"{ja.subject} / {en.subject}",
        f"{ja.text}\n----------------------------------------\n\n{en.text}",
        html,
    )
