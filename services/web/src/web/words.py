"""Texts the pages choose by a service's code: what happens next in each state, attachment states.

``N_`` only marks a text for the catalogue (``pybabel extract -k N_``); templates translate it when shown.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from web.i18n import Catalogue


def N_(text: str) -> str:
    """Mark a text for translation without translating it here."""
    return text


NEXT_STEP = {
    "draft": N_("Not sent yet. Finish the form and attach your documents, then submit."),
    "submitted": N_(
        "We have your application. The bureau will give it a receipt number, usually by the next morning."
    ),
    "received": N_("The bureau has received your application. It will start the review soon."),
    "under_review": N_("The bureau is reviewing your application. We will e-mail you when there is news."),
    "returned": N_(
        "The bureau has asked you for documents. Attach them on this page by the date in the e-mail."
    ),
    "review_completed": N_(
        "The review is complete. Send or bring what the e-mail lists to receive your permit."
    ),
    "card_dispatched": N_("Your residence card has been sent. The e-mail has the tracking number."),
    "closed": N_("This application is finished."),
    "withdrawn": N_("You withdrew this application."),
    "refused": N_("The application was not granted. The e-mail says what you can do next."),
}

ATTACHMENT_STATE = {
    "checking": N_("Being checked"),
    "accepted": N_("Accepted"),
    "rejected": N_("Refused: see the reasons"),
}

_RUBY = re.compile(r"\[([^\[\]|]{1,20})\|([^\[\]|]{1,40})\]")


def translator(catalogue: Catalogue) -> object:
    """The ``_`` of templates: translate, escape, and turn ``[漢字|かんじ]`` into furigana (``<ruby>``)."""

    def _(text: str) -> Markup:
        translated = str(escape(catalogue.gettext(text)))
        return Markup(_RUBY.sub(r"<ruby>\1<rt>\2</rt></ruby>", translated))

    return _
