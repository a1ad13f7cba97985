"""The diagnostic CLI over the in-memory backend."""

from __future__ import annotations

import io
import json

import pytest

from card_gateway.entrypoints.cli import main
from card_gateway.service_layer.gateway import CardGateway
from card_gateway.virtual_card import CardQuirks
from shared.testing.jpki import TestCard
from tests.card_gateway.conftest import FAKE_READER, make_card
from tests.card_gateway.fakes import FakeReaderBackend

pytestmark = pytest.mark.unit


def run(gateway: CardGateway, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), gateway=gateway, out=out)
    return code, out.getvalue()


def test_lists_readers(fake_gateway: CardGateway) -> None:
    code, text = run(fake_gateway, "readers")
    assert code == 0 and "Fake Reader 0\tcard" in text and "Fake Reader 1\tempty" in text


def test_tells_the_card_type_and_tries_as_json(fake_gateway: CardGateway) -> None:
    assert "My Number Card" in run(fake_gateway, "card")[1]
    code, text = run(fake_gateway, "--json", "tries")
    assert code == 0 and json.loads(text)["auth"] == 3


def test_shows_certificate_details(fake_gateway: CardGateway) -> None:
    code, text = run(fake_gateway, "certificate")
    assert code == 0 and "issuer: " in text and "JPKI" in text
    assert run(fake_gateway, "certificate", "--pem")[1].startswith("-----BEGIN CERTIFICATE-----")


def test_errors_print_code_and_both_languages(
    fake_gateway: CardGateway, fake_backend: FakeReaderBackend
) -> None:
    fake_backend.cards = {}
    code, text = run(fake_gateway, "tries")
    assert code == 1 and "reader.not_found" in text and "カードリーダー" in text and "card reader" in text


def test_unknown_tries_are_shown_as_unknown(fake_backend: FakeReaderBackend, test_card: TestCard) -> None:
    fake_backend.cards[FAKE_READER] = make_card(test_card, quirks=CardQuirks(tries_query_answers_ok=True))
    gateway = CardGateway(fake_backend)
    code, text = run(gateway, "tries")
    assert code == 0 and "unknown / 不明" in text and "3/3" not in text
    assert json.loads(run(gateway, "--json", "tries")[1])["auth"] is None
