"""The Mynaportal tax-data port and its HTTP adapter.

There is no public Mynaportal API to call (domain.md §5): ``HttpMynaportalClient`` speaks the small JSON protocol of
``attachments.mynaportal_simulator`` and is the one place to change when a real provider is connected.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class IncomeItem(BaseModel):
    """One kind of income in the record (salary, business, …)."""

    model_config = ConfigDict(frozen=True)

    category: str
    label_ja: str
    label_en: str
    amount_yen: int


class TaxRecord(BaseModel):
    """Income and resident-tax data (所得・個人住民税情報) of one person and fiscal year."""

    model_config = ConfigDict(frozen=True)

    person_name: str
    fiscal_year: int
    municipality: str
    total_income_yen: int
    taxable_income_yen: int
    income: list[IncomeItem] = Field(default_factory=list)
    municipal_tax_yen: int
    prefectural_tax_yen: int
    resident_tax_yen: int
    dependents: int = 0
    issued_at: datetime
    provider_reference: str
    simulated: bool = False


class MynaportalError(Exception):
    """The provider did not return the data."""


class PersonNotFoundError(MynaportalError):
    """The provider knows no such person for the signed-in user."""


class YearNotAvailableError(MynaportalError):
    """The provider has no data for that fiscal year."""


class ProviderUnavailableError(MynaportalError):
    """The provider cannot be reached or answers with an error; try again later."""


class MynaportalClient(Protocol):
    """Fetches income and resident-tax data for the signed-in foreign national."""

    async def fetch_tax_information(
        self, *, subject_id: uuid.UUID, person_name: str, fiscal_year: int
    ) -> TaxRecord:
        """Return the record, or raise PersonNotFoundError / YearNotAvailableError / ProviderUnavailableError."""
        ...


class HttpMynaportalClient:
    """Mynaportal-like provider over HTTP (locally: attachments.mynaportal_simulator)."""

    def __init__(
        self, base_url: str, *, timeout_s: float = 5.0, transport: httpx.AsyncBaseTransport | None = None
    ):
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_s
        self._transport = transport

    async def fetch_tax_information(
        self, *, subject_id: uuid.UUID, person_name: str, fiscal_year: int
    ) -> TaxRecord:
        """POST the request; map the provider's answers to the port's errors."""
        try:
            async with httpx.AsyncClient(
                base_url=self._base_url, timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.post(
                    "/v1/tax-information",
                    json={
                        "subject_id": str(subject_id),
                        "person_name": person_name,
                        "fiscal_year": fiscal_year,
                    },
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 200:
            try:
                return TaxRecord.model_validate_json(response.content)
            except ValidationError as exc:
                raise ProviderUnavailableError("the provider sent data we cannot read") from exc
        if response.status_code == 404:
            error = _error_code(response)
            if error == "year_not_available":
                raise YearNotAvailableError(error)
            raise PersonNotFoundError(error or "person_not_found")
        raise ProviderUnavailableError(f"the provider answered {response.status_code}")


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("error")) if isinstance(body, dict) and body.get("error") else None
