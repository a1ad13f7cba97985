"""Development SMTP server: accepts every message and keeps it as an ``.eml`` file a person can open.

Recipients whose local part starts with ``reject-`` are refused with ``550`` so that permanent failures can be
tried on purpose. Never exposed beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class EmlWriter:
    """aiosmtpd handler writing each accepted message atomically to ``<dir>/<time>-<id>.eml``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """Refuse ``reject-*`` recipients permanently, accept the others."""
        if address.split("@", 1)[0].lower().startswith("reject-"):
            return "550 5.1.1 mailbox unavailable (refused on purpose by the development SMTP server)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Write the message with its envelope recipients as an .eml file."""
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        content: Any = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else str(content).encode()
        header = f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\nX-Envelope-From: {envelope.mail_from}\r\n"
        await asyncio.to_thread(self._write, name, header.encode() + data)
        return "250 Message accepted for delivery"

    def _write(self, name: str, data: bytes) -> None:
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.rename(self.directory / name)


def main() -> None:
    """Run the server until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(EmlWriter(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
