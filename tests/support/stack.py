"""The test session's own infrastructure: Kafka, PostgreSQL and the SMTP catcher on ports of their own.

Started once per session (under ``var/test``) and stopped at the end. Set ``RAS_TEST_KAFKA_BOOTSTRAP``,
``RAS_TEST_POSTGRES_PORT`` and ``RAS_TEST_SMTP_PORT`` to use servers that are already running instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))

from localstack import Ports, Stack, free_port, port_open, signals_deferred  # noqa: E402

__all__ = ["ROOT", "Ports", "Stack", "TestStack", "free_port", "port_open"]


class TestStack(Stack):
    """A Stack whose parts may be external (named by environment variables)."""

    __test__ = False

    def __init__(self) -> None:
        # RAS_TEST_PORT_OFFSET lets two test sessions run side by side on one machine.
        off = int(os.environ.get("RAS_TEST_PORT_OFFSET", "0"))
        ports = Ports(
            kafka=29092 + off,
            kafka_controller=29093 + off,
            postgres=25432 + off,
            smtp=2525 + off,
            services={
                "identity": 28101 + off,
                "applications": 28102 + off,
                "attachments": 28103 + off,
                "notifications": 28104 + off,
            },
            card_gateway=28105 + off,
            ocsp=28110 + off,
            mynaportal=28199 + off,
        )
        external_kafka = os.environ.get("RAS_TEST_KAFKA_BOOTSTRAP")
        if external_kafka:
            ports.kafka = int(external_kafka.rsplit(":", 1)[1])
        if os.environ.get("RAS_TEST_POSTGRES_PORT"):
            ports.postgres = int(os.environ["RAS_TEST_POSTGRES_PORT"])
        if os.environ.get("RAS_TEST_SMTP_PORT"):
            ports.smtp = int(os.environ["RAS_TEST_SMTP_PORT"])
        super().__init__(ROOT / "var" / (f"test-{off}" if off else "test"), ports)
        self.external_kafka = bool(external_kafka)
        self.external_postgres = bool(os.environ.get("RAS_TEST_POSTGRES_PORT"))
        self.external_smtp = bool(os.environ.get("RAS_TEST_SMTP_PORT"))

    def start(self) -> None:
        """Start what is not external; create topics."""
        if not self.external_postgres:
            self.start_postgres()
        if not self.external_kafka:
            self.start_kafka()
        if not self.external_smtp:
            self.start_smtp()
        self.create_topics()

    def stop(self) -> None:
        """Stop what this session started (a second Ctrl-C waits until it is done)."""
        with signals_deferred():
            for name, external in (
                ("smtp", self.external_smtp),
                ("kafka", self.external_kafka),
                ("postgres", self.external_postgres),
            ):
                if not external:
                    self.proc(name).stop()
