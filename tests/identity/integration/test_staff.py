"""Officer and operator accounts come only from the command line; roles never come from HTTP."""

from __future__ import annotations

import asyncio
import io
import re

import pytest

from identity.cli import main
from shared.auth import TokenVerifier
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import GOOD_PASSWORD, outbox_events, random_email, sign_in, token_of
from tests.support.apps import Infra

pytestmark = pytest.mark.integration


def run_cli(identity: Identity, *argv: str) -> str:
    """Run the command in a thread of its own (it starts its own event loop), return what it printed."""
    out = io.StringIO()
    assert main(list(argv), settings=identity.services.settings, out=out) == 0
    return out.getvalue()


async def test_an_officer_created_on_the_command_line_signs_in_with_the_role_and_bureau(
    identity: Identity, infra: Infra
) -> None:
    email = random_email("officer")
    printed = await asyncio.to_thread(
        run_cli, identity, "create-officer", "--email", email, "--bureau", "TKY", "--role", "officer"
    )
    auth_id = re.search(r"認証ID:\s+(\S+)", printed)
    link = re.search(r"(https://ras\.example\.jp/password-setup\?token=\S+)", printed)
    user_id = re.search(r"user_id:\s+(\S+)", printed)
    assert auth_id and link and user_id, printed
    assert len(await outbox_events(identity.services.sessions, "PasswordSetupRequested", user_id[1])) == 1
    done = await identity.client.post(
        "/api/identity/password-setups", json={"token": token_of(link[1]), "password": GOOD_PASSWORD}
    )
    assert done.status_code == 201, done.text
    assert done.json()["auth_id"] == auth_id[1]
    tokens = (await sign_in(identity.client, auth_id[1], GOOD_PASSWORD)).json()
    principal = TokenVerifier(infra.public_key, issuer="ras-identity", audience="ras").verify(
        tokens["access_token"]
    )
    assert principal.roles == frozenset({"officer"})
    assert principal.bureau == "TKY" and principal.category == "officer"


async def test_an_operator_gets_the_operator_role_only(identity: Identity, infra: Infra) -> None:
    printed = await asyncio.to_thread(
        run_cli,
        identity,
        "create-officer",
        "--email",
        random_email("ops"),
        "--bureau",
        "HQ",
        "--role",
        "operator",
    )
    link = re.search(r"(https://\S+\?token=\S+)", printed)
    auth_id = re.search(r"認証ID:\s+(\S+)", printed)
    assert link and auth_id
    await identity.client.post(
        "/api/identity/password-setups", json={"token": token_of(link[1]), "password": GOOD_PASSWORD}
    )
    tokens = (await sign_in(identity.client, auth_id[1], GOOD_PASSWORD)).json()
    verifier = TokenVerifier(infra.public_key, issuer="ras-identity", audience="ras")
    assert verifier.verify(tokens["access_token"]).roles == frozenset({"operator"})


async def test_no_http_request_body_can_carry_roles_or_a_bureau(identity: Identity) -> None:
    spec = (await identity.client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    request_schemas = set()
    for path in spec["paths"].values():
        for operation in path.values():
            ref = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            if "$ref" in ref:
                request_schemas.add(ref["$ref"].rsplit("/", 1)[1])
    assert request_schemas
    for name in request_schemas:
        properties = schemas[name].get("properties", {})
        assert "roles" not in properties and "bureau" not in properties, name
        assert schemas[name].get("additionalProperties") is False, name


def test_a_bureau_that_is_not_a_code_is_refused_with_what_to_enter(
    identity: Identity, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(
            ["create-officer", "--email", random_email("officer"), "--bureau", "tokyo"],
            settings=identity.services.settings,
            out=io.StringIO(),
        )
    assert stopped.value.code == 2
    assert "not a bureau code" in capsys.readouterr().err
