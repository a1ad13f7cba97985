"""The Mynaportal adapter against the simulator's app in memory, and the simulator's rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from attachments.adapters.mynaportal import (
    HttpMynaportalClient,
    PersonNotFoundError,
    ProviderUnavailableError,
    YearNotAvailableError,
)
from attachments.mynaportal_simulator import available_years, create_simulator_app, simulated_record

pytestmark = pytest.mark.unit

LAST_YEAR = datetime.now(UTC).year - 1


def client(transport: httpx.AsyncBaseTransport | None = None) -> HttpMynaportalClient:
    """A client talking to the simulator's app in memory."""
    return HttpMynaportalClient(
        "http://simulator", transport=transport or httpx.ASGITransport(app=create_simulator_app())
    )


async def test_returns_the_same_record_for_the_same_person_and_year() -> None:
    first = await client().fetch_tax_information(
        subject_id=uuid.uuid4(), person_name="LI MEI", fiscal_year=LAST_YEAR
    )
    again = simulated_record("li mei ", LAST_YEAR)
    assert first.simulated is True
    assert first.total_income_yen == again.total_income_yen
    assert first.resident_tax_yen == first.municipal_tax_yen + first.prefectural_tax_yen
    assert sum(i.amount_yen for i in first.income) == first.total_income_yen


@pytest.mark.parametrize(
    ("name", "year", "error"),
    [
        ("UNKNOWN SOMEONE", LAST_YEAR, PersonNotFoundError),
        ("不明 太郎", LAST_YEAR, PersonNotFoundError),
        ("LI MEI", LAST_YEAR + 1, YearNotAvailableError),
        ("UNAVAILABLE", LAST_YEAR, ProviderUnavailableError),
    ],
)
async def test_maps_the_providers_refusals_to_the_ports_errors(
    name: str, year: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client().fetch_tax_information(subject_id=uuid.uuid4(), person_name=name, fiscal_year=year)


async def test_a_provider_that_cannot_be_reached_or_answers_nonsense_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ProviderUnavailableError):
        await client(httpx.MockTransport(refuse)).fetch_tax_information(
            subject_id=uuid.uuid4(), person_name="LI MEI", fiscal_year=LAST_YEAR
        )
    nonsense = httpx.MockTransport(lambda _: httpx.Response(200, json={"unexpected": True}))
    with pytest.raises(ProviderUnavailableError):
        await client(nonsense).fetch_tax_information(
            subject_id=uuid.uuid4(), person_name="LI MEI", fiscal_year=LAST_YEAR
        )


def test_offers_the_last_five_fiscal_years() -> None:
    years = available_years(datetime(2026, 11, 26, tzinfo=UTC))
    assert list(years) == [2021, 2022, 2023, 2024, 2025]
