"""Fixtures of the attachments service tests: the app and its checker in-process on the real test infrastructure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from applications.main import create_app as create_applications_app
from attachments.checks import SandboxLimits
from attachments.config import ApplicationsLink, AttachmentsSettings, CheckerSettings, MynaportalSettings
from tests.applications.integration.applications_support import settings as applications_settings
from tests.attachments.checks.attachment_check_factories import Files
from tests.attachments.checks.conftest import flate_bomb  # noqa: F401  (the bomb of the checks tests)
from tests.attachments.service.support import AttachmentsStack, run_stack
from tests.support.apps import Infra, running, serving
from tests.support.stack import port_open


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """A writer of generated test files in a fresh directory."""
    (tmp_path / "files").mkdir()
    return Files(tmp_path / "files")


@pytest.fixture(scope="session")
def mynaportal_simulator() -> Iterator[str]:
    """The Mynaportal SIMULATOR as a real process on a free loopback port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "attachments.mynaportal_simulator", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open(port) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert process.poll() is None, process.stderr.read() if process.stderr else "simulator exited"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


# Tight enough that a runaway check ends in seconds, loose enough for every honest test file on a slow machine.
TEST_SANDBOX = SandboxLimits(cpu_seconds=3, wall_seconds=12)


def make_settings(
    infra: Infra, blob_dir: Path, mynaportal_url: str, **overrides: object
) -> AttachmentsSettings:
    """Settings pointing at the test infrastructure and the Mynaportal simulator."""
    values: dict[str, object] = {
        **infra.common("attachments"),
        "blob_dir": blob_dir,
        "checker": CheckerSettings(sandbox=TEST_SANDBOX),
        "mynaportal": MynaportalSettings(base_url=mynaportal_url, timeout_s=3, retry_after_s=30),
    }
    values.update(overrides)
    return AttachmentsSettings.model_validate(values)


@pytest.fixture(scope="session")
def blob_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The blob store directory of the session's attachments app."""
    return tmp_path_factory.mktemp("attachments") / "blobs"


@dataclass(frozen=True)
class ApplicationsService:
    """The session's applications app, its in-process client and its loopback URL."""

    app: FastAPI
    client: httpx.AsyncClient
    base_url: str


@pytest.fixture(scope="session")
async def applications_service(infra: Infra) -> AsyncIterator[ApplicationsService]:
    """The applications service in-process, also on a real loopback port (attachments asks it over HTTP)."""
    app = create_applications_app(applications_settings(infra))
    async with running(app) as client, serving(app) as base_url:
        yield ApplicationsService(app=app, client=client, base_url=base_url)


@pytest.fixture
def applications(applications_service: ApplicationsService) -> httpx.AsyncClient:
    """An HTTP client of the session's applications service."""
    return applications_service.client


@pytest.fixture(scope="session")
async def stack(
    infra: Infra,
    blob_dir: Path,
    mynaportal_simulator: str,
    applications_service: ApplicationsService,
) -> AsyncIterator[AttachmentsStack]:
    """The attachments app and one checker, both in the session's event loop (every test uses fresh ids)."""
    settings = make_settings(
        infra,
        blob_dir,
        mynaportal_simulator,
        applications=ApplicationsLink(base_url=applications_service.base_url, timeout_s=5),
    )
    async with run_stack(settings, infra) as started:
        yield started


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for talking to real servers."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
