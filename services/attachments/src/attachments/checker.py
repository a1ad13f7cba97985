"""The checker process: ``python -m attachments.checker``.

A FastStream consumer (group ``attachments-checker``) of attachment-uploaded that checks each file in the sandbox
(``attachments.checks.SandboxPool``, off the event loop), records the verdict and publishes attachment-accepted or
attachment-rejected through the outbox in the same transaction. It scales by running more processes: Kafka shares
the topic's partitions among them, and the inbox and the row's state make each verdict happen once. Settings are
the service's (``ATTACHMENTS_*``), including ``ATTACHMENTS_CHECKER__*`` for the sandbox and the policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path

from attachments.adapters.blobstore import BlobStore, FilesystemBlobStore
from attachments.checks import Kind, SandboxPool, Verdict
from attachments.config import AttachmentsSettings
from attachments.entrypoints.consumers import CHECKER_CONSUMER, register_checker
from attachments.service_layer.checking import RunCheck
from shared.service import ServiceRuntime
from shared.telemetry import configure_logging

log = logging.getLogger(__name__)


class Checker:
    """One checker: broker, outbox relay and a pool of sandbox workers."""

    def __init__(
        self,
        settings: AttachmentsSettings,
        *,
        blob_store: BlobStore | None = None,
        run_check: RunCheck | None = None,
    ) -> None:
        self.settings = settings
        self.runtime = ServiceRuntime(CHECKER_CONSUMER, settings)
        self.blobs = blob_store or FilesystemBlobStore(settings.blob_dir)
        self._pool: SandboxPool | None = None
        self._run_check = run_check
        register_checker(self.runtime, blobs=self.blobs, run_check=self._check)

    async def _check(self, path: Path, kind: Kind) -> Verdict:
        if self._run_check is not None:
            return await self._run_check(path, kind)
        pool = self._pool
        if pool is None:
            raise RuntimeError("the checker is not started")
        return await asyncio.to_thread(pool.check, path, kind, self.settings.checker.policy)

    async def start(self) -> None:
        """Start the sandbox workers, the consumer and the relay."""
        if self._run_check is None:
            self._pool = await asyncio.to_thread(
                SandboxPool, self.settings.checker.pool_size, self.settings.checker.sandbox
            )
        await self.runtime.start()

    async def stop(self) -> None:
        """Finish the check in flight, stop consuming, publish what is left, stop the workers."""
        try:
            await self.runtime.stop()
        finally:
            if self._pool is not None:
                await asyncio.to_thread(self._pool.close)
                self._pool = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Checker]:
        """Run for the duration of the context."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


async def serve(settings: AttachmentsSettings) -> None:
    """Run a checker until SIGTERM or SIGINT."""
    configure_logging(CHECKER_CONSUMER, settings.telemetry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with Checker(settings).running():
        log.info("attachments checker started (pool of %d)", settings.checker.pool_size)
        await stop.wait()
    log.info("attachments checker stopped")


def main() -> None:
    """Command line: ``python -m attachments.checker`` (settings from ATTACHMENTS_* variables)."""
    asyncio.run(serve(AttachmentsSettings()))


if __name__ == "__main__":
    main()
