"""`python -m identity.cli create-officer …` as the README shows it, on a stack described by a stack.env: it reads
the database, keys and JPKI files from there, is idempotent for one e-mail, and refuses an unknown bureau."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db import create_engine
from shared.migrations import upgrade
from tests.support.apps import Infra
from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

BUREAUS_PATH = "/api/applications/reference/bureaus"


@contextmanager
def bureau_list(*codes: str) -> Iterator[str]:
    """Serve a bureau list over HTTP in the shape the applications service lists them; yield its base URL."""
    body = json.dumps([{"code": c, "name": {"ja": c, "en": c}} for c in codes]).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.split("?", 1)[0] == BUREAUS_PATH
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if found else b"{}")

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def stack_env(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A stack.env written as `make up` writes it, for a stack whose identity database is migrated."""
    stack = infra.stack
    stack.service_env(
        "identity"
    )  # the keys, the handle pepper and the development JPKI, as `make up` makes them
    stack.create_database("ras_identity", fresh=True)
    upgrade(ROOT / "services" / "identity", stack.database_url("ras_identity"))
    with bureau_list("TKY", "OSK", "HQ") as applications_url:
        values = stack.addresses() | {"APPLICATIONS_URL": applications_url}
        path = tmp_path_factory.mktemp("stack") / "stack.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        yield path


def cli(stack_env: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the documented command in a process of its own, with no IDENTITY_ settings in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    return subprocess.run(
        [sys.executable, "-m", "identity.cli", "--stack-env", str(stack_env), "create-officer", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def accounts_and_links(infra: Infra, email: str) -> tuple[int, int]:
    """Return how many accounts the stack's identity database has for an address, and set-up events queued."""
    engine = create_engine(infra.stack.database_url("ras_identity"), pool_size=1)
    try:
        async with engine.connect() as conn:
            accounts = await conn.scalar(
                text("SELECT count(*) FROM user_account WHERE lower(email) = lower(:e)"), {"e": email}
            )
            links = await conn.scalar(
                text(
                    "SELECT count(*) FROM outbox_message WHERE event_type = 'PasswordSetupRequested' "
                    "AND payload->>'email' = :e"
                ),
                {"e": email},
            )
            return int(accounts or 0), int(links or 0)
    finally:
        await engine.dispose()


async def test_create_officer_reads_the_stack_env_and_is_idempotent_for_the_same_email(
    infra: Infra, stack_env: Path
) -> None:
    email = f"officer-{uuid.uuid4().hex[:8]}@example.jp"
    first = cli(stack_env, "--email", email, "--bureau", "TKY", "--role", "officer")
    assert first.returncode == 0, first.stderr
    user_id = re.search(r"user_id:\s+(\S+)", first.stdout)
    auth_id = re.search(r"認証ID:\s+(\S+)", first.stdout)
    assert user_id and auth_id and "set-up link" in first.stdout and "#token=" in first.stdout

    again = cli(stack_env, "--email", email.upper(), "--bureau", "TKY", "--role", "officer")
    assert again.returncode == 0, again.stderr
    assert f"user_id:   {user_id[1]}" in again.stdout and f"認証ID:    {auth_id[1]}" in again.stdout
    assert "already exists" in again.stdout and "#token=" not in again.stdout
    assert await accounts_and_links(infra, email) == (1, 1)

    other_bureau = cli(stack_env, "--email", email, "--bureau", "OSK", "--role", "officer")
    assert other_bureau.returncode == 2 and "nothing was changed" in other_bureau.stderr
    assert await accounts_and_links(infra, email) == (1, 1)


async def test_create_officer_refuses_a_bureau_the_applications_service_does_not_list(
    infra: Infra, stack_env: Path
) -> None:
    email = f"officer-{uuid.uuid4().hex[:8]}@example.jp"
    refused = cli(stack_env, "--email", email, "--bureau", "NOPE", "--role", "officer")
    assert refused.returncode == 2
    assert "unknown bureau 'NOPE'" in refused.stderr and "TKY" in refused.stderr
    assert await accounts_and_links(infra, email) == (0, 0)


def test_without_a_stack_or_settings_the_command_says_what_to_do(tmp_path: Path) -> None:
    missing = cli(tmp_path / "stack.env", "--email", "a@example.jp", "--bureau", "TKY")
    assert missing.returncode == 2 and "make up" in missing.stderr
