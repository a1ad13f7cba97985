"""SIMULATOR of a Mynaportal-like tax-data provider, for development and tests only — never a real data source.

``python -m attachments.mynaportal_simulator --port 8199`` serves ``POST /v1/tax-information`` on 127.0.0.1
with made-up but stable data: the same person and year always give the same figures. Simulated rules:

- fiscal years from five years ago up to last year are available; others answer 404 ``year_not_available``;
- a person whose name starts with ``UNKNOWN`` or ``不明`` answers 404 ``person_not_found``;
- a person whose name starts with ``UNAVAILABLE`` answers 503 (the provider is down for maintenance);
- ``POST /simulator/outage`` with ``{"down": true}`` makes every request answer 503 until set back to false.
"""

from __future__ import annotations

import argparse
import hashlib
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from attachments.adapters.mynaportal import IncomeItem, TaxRecord

MUNICIPALITIES = (
    "東京都新宿区",
    "大阪府大阪市北区",
    "愛知県名古屋市中区",
    "福岡県福岡市博多区",
    "北海道札幌市中央区",
)


class TaxInformationRequest(BaseModel):
    """What the client asks the simulated provider for."""

    subject_id: uuid.UUID
    person_name: str = Field(min_length=1, max_length=200)
    fiscal_year: int


class OutageSwitch(BaseModel):
    """Turn the simulated outage on or off."""

    down: bool


def available_years(today: datetime | None = None) -> range:
    """Fiscal years the simulator has data for: five years ago up to last year."""
    year = (today or datetime.now(UTC)).year
    return range(year - 5, year)


def simulated_record(person_name: str, fiscal_year: int, *, now: datetime | None = None) -> TaxRecord:
    """Stable made-up figures for a person and year."""
    seed = hashlib.sha256(f"{person_name.strip().casefold()}|{fiscal_year}".encode()).digest()
    salary = 2_400_000 + int.from_bytes(seed[:4], "big") % 6_000_000
    side = (int.from_bytes(seed[4:6], "big") % 400_000) if seed[6] % 3 == 0 else 0
    total = salary + side
    deduction = 430_000 + (salary // 10)
    taxable = max(0, total - deduction)
    municipal = taxable * 6 // 100 + 3_500
    prefectural = taxable * 4 // 100 + 1_500
    income = [
        IncomeItem(category="salary", label_ja="給与所得", label_en="Employment income", amount_yen=salary)
    ]
    if side:
        income.append(
            IncomeItem(
                category="miscellaneous", label_ja="雑所得", label_en="Miscellaneous income", amount_yen=side
            )
        )
    return TaxRecord(
        person_name=person_name.strip(),
        fiscal_year=fiscal_year,
        municipality=MUNICIPALITIES[seed[7] % len(MUNICIPALITIES)],
        total_income_yen=total,
        taxable_income_yen=taxable,
        income=income,
        municipal_tax_yen=municipal,
        prefectural_tax_yen=prefectural,
        resident_tax_yen=municipal + prefectural,
        dependents=seed[8] % 3,
        issued_at=now or datetime.now(UTC),
        provider_reference=f"SIM-{seed[:6].hex().upper()}",
        simulated=True,
    )


def create_simulator_app() -> FastAPI:
    """The simulator's HTTP app."""
    app = FastAPI(title="Mynaportal SIMULATOR (development only)")
    state = {"down": False}

    @app.get("/health")
    async def read_health() -> dict[str, str]:
        """The simulator answers."""
        return {"status": "ok", "simulator": "mynaportal"}

    @app.post("/simulator/outage")
    async def update_outage(switch: OutageSwitch) -> dict[str, bool]:
        """Simulate the provider being down (or back)."""
        state["down"] = switch.down
        return {"down": switch.down}

    @app.post("/v1/tax-information", response_model=None)
    async def create_tax_information(request: TaxInformationRequest) -> JSONResponse | TaxRecord:
        """Return the income and resident-tax data of a person and fiscal year (simulated)."""
        name = request.person_name.strip()
        if state["down"] or name.upper().startswith("UNAVAILABLE"):
            return JSONResponse({"error": "maintenance"}, status_code=503, headers={"Retry-After": "60"})
        if name.upper().startswith("UNKNOWN") or name.startswith("不明"):
            return JSONResponse({"error": "person_not_found"}, status_code=404)
        if request.fiscal_year not in available_years():
            return JSONResponse({"error": "year_not_available"}, status_code=404)
        return simulated_record(name, request.fiscal_year)

    return app


def main(argv: list[str] | None = None) -> None:
    """Command line: serve the simulator on 127.0.0.1."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="mynaportal_simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--host", default="127.0.0.1", help="loopback only unless you know why")
    args = parser.parse_args(argv)
    uvicorn.run(create_simulator_app(), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
