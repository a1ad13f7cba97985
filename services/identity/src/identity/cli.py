"""Administrator commands of the identity service (settings from the IDENTITY_ environment, like the service).

``python -m identity.cli create-officer --email … --bureau … --role officer|operator`` creates a staff account and
prints its 認証ID and a one-time set-up link (also e-mailed through the outbox). Roles are given only here: no HTTP
path of the service sets them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
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


async def _create_officer(settings: IdentitySettings, args: argparse.Namespace, out: TextIO) -> None:
    """Create the account and print what the new officer needs."""
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        services = bootstrap(settings, session_factory(engine))
        role: StaffRole = "operator" if args.role == "operator" else "officer"
        account = await create_staff_account(
            services, email=args.email, bureau=args.bureau, role=role, locale=args.locale
        )
    finally:
        await engine.dispose()
    out.write(f"user_id:   {account.user_id}\n")
    out.write(f"認証ID:    {account.auth_id}\n")
    out.write(f"role:      {role} ({args.bureau})\n")
    out.write(f"set-up link (one use, until {account.setup_expires_at:%Y-%m-%d %H:%M %Z}):\n")
    out.write(f"{account.setup_url}\n")


def main(
    argv: Sequence[str] | None = None, *, settings: IdentitySettings | None = None, out: TextIO = sys.stdout
) -> int:
    """Run one command; return the exit status."""
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
    if args.command == "create-officer":
        asyncio.run(_create_officer(settings or IdentitySettings(), args, out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
