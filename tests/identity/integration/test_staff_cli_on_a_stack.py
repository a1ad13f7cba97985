"""`python -m identity.cli create-officer …` as the README shows it, on a stack described by a stack.env: it reads
the database, keys and JPKI files from there and is idempotent for one e-mail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db import create_engine
from shared.migrations import upgrade
from tests.support.apps import Infra
from tests.support.stack import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack_env(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stack.env written as `make up` writes it, for a stack whose identity database is migrated."""
    stack = infra.stack
    # the keys, the handle pepper and the development JPKI, as `make up` makes them
    stack.service_env("identity")
    stack.create_database("ras_identity", fresh=True)
    upgrade(ROOT / "services" / "identity", stack.database_url("ras_identity"))
    path = tmp_path_factory.mktemp("stack") / "stack.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in stack.addresses().items()))
    return path


def cli(stack_env: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the documented command in a process of its own, with no IDENTITY_ settings in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDENTITY_", "RAS_WEB_BASE_URL"))}
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
    assert user_id and auth_id and "set-up link" in first.stdout
    assert f"{infra.stack.public_url}/" in first.stdout and "#token=" in first.stdout

    again = cli(stack_env, "--email", email.upper(), "--bureau", "TKY", "--role", "officer")
    assert again.returncode == 0, again.stderr
    assert f"user_id:   {user_id[1]}" in again.stdout and f"認証ID:    {auth_id[1]}" in again.stdout
    assert "already exists" in again.stdout and "#token=" not in again.stdout
    assert await accounts_and_links(infra, email) == (1, 1)

    other_bureau = cli(stack_env, "--email", email, "--bureau", "OSK", "--role", "officer")
    assert other_bureau.returncode == 2 and "nothing was changed" in other_bureau.stderr
    assert await accounts_and_links(infra, email) == (1, 1)


def test_without_a_stack_or_settings_the_command_says_what_to_do(tmp_path: Path) -> None:
    missing = cli(tmp_path / "stack.env", "--email", "a@example.jp", "--bureau", "TKY")
    assert missing.returncode == 2 and "make up" in missing.stderr
