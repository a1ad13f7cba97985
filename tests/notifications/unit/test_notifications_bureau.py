"""Mails about an application name the bureau it is with: name, address and phone from the reference data."""

from __future__ import annotations

import uuid

import pytest

from notifications.config import MailSettings
from notifications.service_layer.mails import mails_for
from notifications.service_layer.rendering import render
from shared.events import ApplicationSubmitted, Recipient
from shared.events.applications import BureauContact
from tests.notifications.samples import address

pytestmark = pytest.mark.unit

MAIL = MailSettings(web_url="https://ras.example.jp/", reply_to=None)
NAHA = BureauContact(
    code="NAH",
    name_ja="福岡出入国在留管理局那覇支局",
    name_en="Naha District Immigration Services Office",
    address_ja="〒900-0022 沖縄県那覇市樋川1-15-15 那覇第一地方合同庁舎",
    address_en="Naha 1st Local Joint Government Building, 1-15-15 Hikawa, Naha, Okinawa 900-0022",
    phone="098-832-4185",
)


def submitted(bureau: BureauContact | None) -> ApplicationSubmitted:
    """Return a receipt event to one Japanese and one English reader."""
    return ApplicationSubmitted(
        application_id=uuid.uuid4(),
        recipients=[Recipient(email=address("ja"), locale="ja"), Recipient(email=address("en"), locale="en")],
        provisional_receipt_number="T20261129000001",
        procedures=["extension"],
        status_of_residence="student",
        filer_user_id=uuid.uuid4(),
        applicant_id=uuid.uuid4(),
        bureau="NAH",
        bureau_contact=bureau,
    )


def test_the_receipt_names_the_bureau_with_its_address_and_phone() -> None:
    ja, en = (render(m.template, m.locale, m.context, MAIL) for m in mails_for(submitted(NAHA)))
    assert "申請先: 福岡出入国在留管理局那覇支局" in ja.text
    assert "沖縄県那覇市樋川1-15-15" in ja.text and "電話: 098-832-4185" in ja.text
    assert "沖縄県那覇市樋川1-15-15" in ja.html
    assert "Bureau: Naha District Immigration Services Office" in en.text
    assert "1-15-15 Hikawa, Naha" in en.text and "Phone: 098-832-4185" in en.text


def test_an_event_without_the_bureau_renders_as_before() -> None:
    ja, en = (render(m.template, m.locale, m.context, MAIL) for m in mails_for(submitted(None)))
    assert "申請先:" not in ja.text and "Bureau:" not in en.text
