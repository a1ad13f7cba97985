"""Rendering of e-mails from Jinja2 templates in Japanese and English, plain text and HTML.

Each template is a folder ``templates/<name>/`` with ``subject.<locale>.txt``, ``body.<locale>.txt`` and
``body.<locale>.html``; bodies extend ``templates/_layout/`` (greeting-free header, help desk and web address
footer). When the recipient's language is unknown, one mail carries Japanese first, then English.
Templates receive only the facts their mail needs (see ``service_layer.mails``) plus display helpers bound to
the language being rendered: ``when``, ``day``, ``yen``, ``procedure``, ``send_item``, ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications.config import MailSettings
from notifications.service_layer import formatting

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LOCALES = ("ja", "en")
SEPARATOR = "\n----------------------------------------\n\n"

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class RenderedMail:
    """A mail ready to send."""

    subject: str
    text: str
    html: str


def template_names() -> list[str]:
    """Return every template's name (folders starting with ``_`` are layouts, not mails)."""
    return sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _helpers(locale: str) -> dict[str, Any]:
    return {
        "locale": locale,
        "when": partial(formatting.when, locale=locale),
        "day": partial(formatting.day, locale=locale),
        "yen": partial(formatting.yen, locale=locale),
        "procedure": partial(formatting.procedure_name, locale=locale),
        "send_item": partial(formatting.send_item_name, locale=locale),
        "kind": partial(formatting.attachment_kind_name, locale=locale),
    }


def _one(name: str, locale: str, context: dict[str, Any]) -> RenderedMail:
    ctx = {**context, **_helpers(locale)}
    subject = " ".join(_env.get_template(f"{name}/subject.{locale}.txt").render(ctx).split())
    text = _env.get_template(f"{name}/body.{locale}.txt").render(ctx)
    html = _env.get_template(f"{name}/body.{locale}.html").render(ctx)
    return RenderedMail(subject, text, html)


def _document(fragments: list[tuple[str, str]], subject: str) -> str:
    sections = "\n<hr>\n".join(f'<div lang="{lang}">\n{body}</div>' for lang, body in fragments)
    return (
        f'<!DOCTYPE html>\n<html lang="{fragments[0][0]}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(subject)}</title>\n</head>\n<body>\n{sections}\n</body>\n</html>\n"
    )


def render(name: str, locale: str | None, context: dict[str, Any], mail: MailSettings) -> RenderedMail:
    """Render template ``name`` in the recipient's language, or in both when it is unknown."""
    ctx = {**context, "mail": mail}
    if locale in LOCALES:
        assert locale is not None
        one = _one(name, locale, ctx)
        return RenderedMail(one.subject, one.text, _document([(locale, one.html)], one.subject))
    ja, en = _one(name, "ja", ctx), _one(name, "en", ctx)
    subject = f"{ja.subject} / {en.subject}"
    return RenderedMail(
        subject, f"{ja.text}{SEPARATOR}{en.text}", _document([("ja", ja.html), ("en", en.html)], subject)
    )
