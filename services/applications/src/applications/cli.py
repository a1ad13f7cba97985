"""Operator commands: ``python -m applications.cli assign-receipt-numbers`` runs the receipt-number job now.

Reads the same environment as the service (``APPLICATIONS_...``); safe beside running replicas (SKIP LOCKED).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from applications.config import ApplicationsSettings
from applications.domain.clock import SystemClock
from applications.reference import load_reference_data
from applications.service_layer.services import ApplicationService
from shared.db import create_engine, session_factory


async def assign_receipt_numbers(settings: ApplicationsSettings) -> int:
    """Assign every pending official receipt number; return how many were assigned."""
    engine = create_engine(settings.database_url, pool_size=2)
    try:
        service = ApplicationService(
            sessions=session_factory(engine),
            reference=load_reference_data(settings.reference_data_dir),
            clock=SystemClock(),
            default_bureau=settings.default_bureau,
        )
        assigned = await service.assign_receipt_numbers(batch_size=settings.receipt_job.batch_size)
        for application_id, number in assigned:
            print(f"{application_id}\t{number}")
        return len(assigned)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None, settings: ApplicationsSettings | None = None) -> int:
    """Run a command; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m applications.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("assign-receipt-numbers", help="assign official receipt numbers (受付番号) now")
    parser.parse_args(argv)
    count = asyncio.run(assign_receipt_numbers(settings or ApplicationsSettings()))
    print(f"assigned {count} receipt numbers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
