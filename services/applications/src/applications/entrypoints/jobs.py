"""The nightly receipt-number job as an asyncio task of the service's lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from applications.config import ReceiptJobSettings
from applications.domain.clock import Clock
from applications.service_layer.services import ApplicationService

log = logging.getLogger(__name__)


def next_run(now: datetime, settings: ReceiptJobSettings) -> datetime:
    """Return the next time the job runs: today's ``run_at`` in the job's time zone, or tomorrow's if passed."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    candidate = local.replace(
        hour=settings.run_at.hour, minute=settings.run_at.minute, second=settings.run_at.second, microsecond=0
    )
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def receipt_number_job(
    service: ApplicationService,
    settings: ReceiptJobSettings,
    clock: Clock,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Callable[[], Awaitable[None]]:
    """Return the background task: sleep until the next run, assign the numbers, repeat; a failure waits a day."""

    async def run_forever() -> None:
        while True:
            delay = (next_run(clock.now(), settings) - clock.now()).total_seconds()
            await sleep(max(delay, 0.0))
            try:
                assigned = await service.assign_receipt_numbers(batch_size=settings.batch_size)
                log.info("receipt-number job assigned %d numbers", len(assigned))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("receipt-number job failed; the next run picks up what is left")

    return run_forever
