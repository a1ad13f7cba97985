"""Every template renders in Japanese, in English, and in both when the language is unknown."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date
from typing import Any

import pytest

from notifications.config import MailSettings
from notifications.service_layer.mails import SENSITIVE_TEMPLATES, consumed_events, mails_for
from notifications.service_layer.rendering import RenderedMail, render, template_names
from shared.events import ApplicationReturned, ApplicationSubmitted, Recipient
from shared.events.identity import Locale
from tests.notifications.samples import SAMPLES, Sample, address

pytestmark = pytest.mark.unit

MAIL = MailSettings(web_url="https://ras.example.jp/", reply_to=None)


def visible(markup: str) -> str:
    """Return the text a reader sees in an HTML body (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def rendered(sample: Sample, locale: Locale | None, mail: MailSettings = MAIL) -> RenderedMail:
    """Render the sample event's one mail as the consumer would."""
    [planned] = mails_for(sample.build(address(), locale))
    assert planned.template == sample.template
    return render(planned.template, planned.locale, planned.context, mail)


def test_there_is_a_sample_for_every_template_and_a_template_for_every_consumed_event() -> None:
    assert sorted(s.template for s in SAMPLES) == template_names()
    assert len(consumed_events()) == len(template_names())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.template)
def test_a_japanese_recipient_gets_the_mail_in_japanese_only(sample: Sample) -> None:
    out = rendered(sample, "ja")
    assert sample.subject_ja in out.subject
    assert sample.subject_en not in out.subject
    for phrase in sample.body_ja:
        assert phrase in out.text, phrase
        assert phrase in visible(out.html), phrase
    assert "This address does not receive replies" not in out.text
    assert '<html lang="ja">' in out.html


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.template)
def test_an_english_recipient_gets_the_mail_in_english_only(sample: Sample) -> None:
    out = rendered(sample, "en")
    assert sample.subject_en in out.subject
    assert sample.subject_ja not in out.subject
    for phrase in sample.body_en:
        assert phrase in out.text, phrase
        assert phrase in visible(out.html), phrase
    assert "このメールは送信専用です" not in out.text
    assert '<html lang="en">' in out.html


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.template)
def test_a_recipient_of_unknown_language_gets_japanese_first_then_english(sample: Sample) -> None:
    out = rendered(sample, None)
    assert out.subject.index(sample.subject_ja) < out.subject.index(sample.subject_en)
    for phrase in (*sample.body_ja, *sample.body_en):
        assert phrase in out.text, phrase
        assert phrase in visible(out.html), phrase
    assert out.text.index(sample.body_ja[0]) < out.text.index(sample.body_en[-1])


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.template)
def test_every_mail_names_the_web_address_and_help_desk_hours_from_the_settings(sample: Sample) -> None:
    mail = MailSettings(
        web_url="https://web.example.jp/ras",
        reply_to="desk@example.jp",
        help_desk_phone="0570-000-000",
        help_desk_hours_ja="平日 10:00〜16:00",
        help_desk_hours_en="weekdays 10:00-16:00",
    )
    out = rendered(sample, None, mail)
    for phrase in (
        "https://web.example.jp/ras",
        "平日 10:00〜16:00",
        "weekdays 10:00-16:00",
        "0570-000-000",
        "desk@example.jp",
    ):
        assert phrase in out.text and phrase in visible(out.html), phrase
    assert "送信専用" not in out.text


def test_text_written_by_an_officer_is_escaped_in_html_and_kept_as_is_in_text() -> None:
    event = ApplicationReturned(
        application_id=uuid.uuid4(),
        recipients=[Recipient(email=address(), locale="ja")],
        officer_id=uuid.uuid4(),
        requested_documents=["<b>在職証明書</b>"],
        message='<script>alert("x")</script>',
        round_number=2,
    )
    [planned] = mails_for(event)
    out = render(planned.template, planned.locale, planned.context, MAIL)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "&lt;b&gt;在職証明書&lt;/b&gt;" in out.html
    assert '<script>alert("x")</script>' in out.text
    assert "受付番号" not in out.subject  # no receipt number yet: the subject says nothing about one


def test_the_receipt_goes_to_the_applicant_and_the_filer_once_each_with_words_for_their_role() -> None:
    applicant, filer = address("applicant"), address("filer")
    event = ApplicationSubmitted(
        application_id=uuid.uuid4(),
        recipients=[
            Recipient(email=applicant, locale="ja", role="applicant"),
            Recipient(email=filer, locale="ja", role="filer"),
            Recipient(email=filer.upper(), locale="ja", role="filer"),
        ],
        provisional_receipt_number="P-1",
        procedures=["extension"],
        status_of_residence="student",
        filer_user_id=uuid.uuid4(),
        applicant_id=uuid.uuid4(),
        bureau="tokyo",
    )
    planned = mails_for(event)
    assert [(p.recipient, p.role) for p in planned] == [(applicant, "applicant"), (filer, "filer")]
    texts = [render(p.template, p.locale, p.context, MAIL).text for p in planned]
    assert "あなたを申請人とする申請" in texts[0] and "申請中であることの証明" in texts[0]
    assert "申請人ご本人のメールアドレスにも同じお知らせ" in texts[1]


def test_only_mails_with_a_link_or_the_authentication_id_are_marked_sensitive() -> None:
    marked = {s.template for s in SAMPLES if mails_for(s.build(address(), "ja"))[0].sensitive}
    assert marked == SENSITIVE_TEMPLATES == {"password_setup", "password_reset", "auth_id_issued"}


def test_mails_carry_only_the_facts_they_need() -> None:
    sample = next(s for s in SAMPLES if s.template == "application_submitted")
    [planned] = mails_for(sample.build(address(), "ja"))
    context: dict[str, Any] = planned.context
    assert set(context) == {
        "provisional_receipt_number",
        "procedures",
        "submitted_at",
        "declaration_form9",
        "role",
    }


def returned(**extra: Any) -> ApplicationReturned:
    """Return an ApplicationReturned event to one Japanese and one English recipient."""
    return ApplicationReturned(
        application_id=uuid.uuid4(),
        recipients=[
            Recipient(email=address("applicant"), locale="ja", role="applicant"),
            Recipient(email=address("filer"), locale="en", role="filer"),
        ],
        officer_id=uuid.uuid4(),
        requested_documents=["在職証明書"],
        round_number=2,
        **extra,
    )


def test_the_documents_requested_mail_asks_for_form_9_only_when_the_event_says_it_is_required() -> None:
    sample = next(s for s in SAMPLES if s.template == "application_returned")
    required = sample.build(address(), "ja")
    assert isinstance(required, ApplicationReturned) and required.declaration_form9 is not None
    for planned in mails_for(returned(declaration_form9=required.declaration_form9)):
        text = render(planned.template, planned.locale, planned.context, MAIL).text
        assert "参考様式9" in text
        verbatim = (
            required.declaration_form9.text_ja
            if planned.locale == "ja"
            else required.declaration_form9.text_en
        )
        assert verbatim in text
    for planned in mails_for(returned()):
        out = render(planned.template, planned.locale, planned.context, MAIL)
        assert "参考様式9" not in out.text and "参考様式9" not in out.html


def test_the_documents_requested_mail_states_the_deadline_in_each_language() -> None:
    ja, en = mails_for(returned(deadline=date(2027, 3, 1)))
    assert "提出期限: 2027年3月1日" in render(ja.template, ja.locale, ja.context, MAIL).text
    assert "Submit them by: 1 March 2027" in render(en.template, en.locale, en.context, MAIL).text


@pytest.mark.parametrize("template", ["application_refused", "application_withdrawn"])
def test_refusal_and_withdrawal_go_to_the_applicant_and_the_filer(template: str) -> None:
    sample = next(s for s in SAMPLES if s.template == template)
    event = sample.build(address(), "ja")
    applicant, filer = address("applicant"), address("filer")
    two = event.model_copy(
        update={
            "recipients": [
                Recipient(email=applicant, locale="ja", role="applicant"),
                Recipient(email=filer, locale="en", role="filer"),
            ]
        }
    )
    planned = mails_for(two)
    assert [(p.recipient, p.role, p.template) for p in planned] == [
        (applicant, "applicant", template),
        (filer, "filer", template),
    ]
