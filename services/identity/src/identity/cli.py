"""Administrator commands of the identity service.

``python -m identity.cli create-officer --email … --bureau … --role officer|operator`` creates a staff account and
prints its 認証ID and a one-time set-up link (also e-mailed through the outbox). Roles are given only here: no HTTP
path of the service sets them. Running it again for the same e-mail, role and bureau changes nothing and prints
the existing account; another role or bureau for that e-mail is refused.

Settings: the IDENTITY_ environment, like the service, when ``IDENTITY_DATABASE_URL`` is set; otherwise the local
stack that ``make up`` wrote (``var/stack.env`` — or ``--stack-env`` / ``RAS_STACK_ENV`` — and the keys and JPKI
files beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from identity.bootstrap import bootstrap
from identity.config import IdentitySettings
from identity.service_layer.staff import StaffRole, create_staff_account
from shared.bureaus import default_bureaus
from shared.db import create_engine, session_factory

BUREAU_CODE = re.compile(r"^[A-Z0-9]{2,6}$")


def _bureau_code(value: str) -> str:
    """Accept a bureau code of the shared bureau list (the one applications files drafts with)."""
    if not BUREAU_CODE.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a bureau code: use 2-6 capital letters or digits, e.g. TKY "
            "(officers see only the applications filed with exactly this code)"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog="python -m identity.cli", description=__doc__)
    parser.add_argument(
        "--stack-env",
        type=Path,
        default=None,
        help=f"the local stack's stack.env (default: $RAS_STACK_ENV or {DEFAULT_STACK_ENV})",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    officer = commands.add_parser("create-officer", help="create an officer or operator account")
    officer.add_argument("--email", required=True)
    officer.add_argument(
        "--bureau",
        required=True,
        type=_bureau_code,
        help="bureau code from the shared bureau list (shared/reference/bureaus.yaml), e.g. TKY",
    )
    officer.add_argument("--role", choices=["officer", "operator"], default="officer")
    officer.add_argument("--locale", choices=["ja", "en"], default="ja")
    return parser


REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_STACK_ENV = REPO_ROOT / "var" / "stack.env"
IDENTITY_DB = "ras_identity"


class CliError(Exception):
    """A refusal the command explains and exits with status 2 for."""


def read_stack_env(path: Path) -> dict[str, str]:
    """Return the KEY=value pairs of a stack.env file."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return values


def _require(stack: Mapping[str, str], key: str, path: Path) -> str:
    value = stack.get(key)
    if not value:
        raise CliError(f"{path} has no {key}: bring the stack up with `make up` first")
    return value


def settings_from_stack(stack: Mapping[str, str], path: Path) -> IdentitySettings:
    """Return the identity settings of the local stack: addresses from stack.env, secrets from its files."""
    postgres = _require(stack, "POSTGRES_URL", path)
    database = re.sub(r"^postgresql(\+\w+)?://", "postgresql+asyncpg://", postgres).rsplit("/", 1)[0]
    keys = Path(_require(stack, "TOKEN_PUBLIC_KEY_FILE", path)).parent
    jpki = Path(_require(stack, "JPKI_DEMO_CARD_DIR", path)).parent
    pepper = keys / "handle_pepper"
    private = keys / "token_private.pem"
    for needed in (pepper, private):
        if not needed.is_file():
            raise CliError(f"{needed} is missing: bring the stack up with `make up` first")
    return IdentitySettings(
        database_url=f"{database}/{IDENTITY_DB}",
        kafka={"bootstrap_servers": _require(stack, "KAFKA_BOOTSTRAP_SERVERS", path)},
        auth={"public_key_file": keys / "token_public.pem"},
        token_private_key_file=private,
        handle_pepper=pepper.read_text().strip(),
        jpki={
            "auth_ca_files": sorted(p for p in jpki.glob("auth-*.pem") if not p.name.endswith(".key.pem")),
            "sign_ca_files": sorted(p for p in jpki.glob("sign-*.pem") if not p.name.endswith(".key.pem")),
        },
        revocation={"backend": "ocsp", "ocsp_url": _require(stack, "OCSP_SIMULATOR_URL", path)},
        # what mails link to: the stack's one public address, as `make up` gives the service
        web_base_url=os.environ.get("RAS_WEB_BASE_URL") or stack.get("PUBLIC_URL") or "http://127.0.0.1:8080",
    )


async def _create_officer(settings: IdentitySettings, args: argparse.Namespace, out: TextIO) -> None:
    """Create the account (or find the same one) and print what the new officer needs."""
    from identity.service_layer.staff import StaffAccountConflict

    engine = create_engine(settings.database_url, pool_size=1)
    try:
        services = bootstrap(settings, session_factory(engine))
        role: StaffRole = "operator" if args.role == "operator" else "officer"
        try:
            account = await create_staff_account(
                services, email=args.email, bureau=args.bureau, role=role, locale=args.locale
            )
        except StaffAccountConflict as exc:
            raise CliError(str(exc)) from None
    finally:
        await engine.dispose()
    out.write(f"user_id:   {account.user_id}\n")
    out.write(f"認証ID:    {account.auth_id}\n")
    out.write(f"role:      {role} ({args.bureau})\n")
    if not account.created:
        out.write("already exists: nothing was changed (no new set-up link)\n")
        return
    assert account.setup_expires_at is not None
    out.write(f"set-up link (one use, until {account.setup_expires_at:%Y-%m-%d %H:%M %Z}):\n")
    out.write(f"{account.setup_url}\n")


def _resolve(args: argparse.Namespace, settings: IdentitySettings | None) -> IdentitySettings:
    """Return the settings given, else those of the IDENTITY_ environment, else those of the local stack."""
    if settings is not None:
        return settings
    if os.environ.get("IDENTITY_DATABASE_URL"):
        return IdentitySettings()
    env_path = args.stack_env or Path(os.environ.get("RAS_STACK_ENV", DEFAULT_STACK_ENV))
    stack = read_stack_env(env_path) if env_path.is_file() else {}
    if not stack:
        raise CliError(
            f"no settings: set the IDENTITY_ environment as for the service, or bring the local stack up "
            f"with `make up` (it writes {env_path})"
        )
    return settings_from_stack(stack, env_path)


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: IdentitySettings | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run one command; return the exit status (2 with an explanation when it is refused)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "create-officer" and args.role == "officer":
        # An officer sees the queue of one bureau: it must be one applications files drafts with.
        directory = default_bureaus()
        if directory.get(args.bureau) is None:
            known = ", ".join(f"{b.code} ({b.name.en})" for b in directory.bureaus)
            parser.error(
                f"argument --bureau: {args.bureau!r} is not in the bureau list; choose one of: {known}"
            )
    try:
        resolved = _resolve(args, settings)
        if args.command == "create-officer":
            asyncio.run(_create_officer(resolved, args, out))
    except CliError as exc:
        err.write(f"{_parser().prog}: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
