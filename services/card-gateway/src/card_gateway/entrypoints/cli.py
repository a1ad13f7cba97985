"""Diagnostic CLI: ``card-gateway readers | card | certificate | tries | serve`` (also ``python -m card_gateway``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from card_gateway.domain.certificates import describe_certificate
from card_gateway.domain.errors import CardGatewayError
from card_gateway.domain.models import PinKind
from card_gateway.service_layer.gateway import CardGateway


def _parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="card-gateway", description="My Number Card (JPKI) diagnostics over PC/SC."
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per card operation")
    parser.add_argument("--shared", action="store_true", help="connect in shared mode (default: exclusive)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("readers", help="list readers and whether a card is in each")
    for name, text in (
        ("card", "tell whether the card is a My Number Card"),
        ("certificate", "show the user-authentication certificate"),
        ("tries", "show the tries left of both PINs (spends none)"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument(
            "--reader", help="reader name (default: the first reader holding a My Number Card)"
        )
        if name == "certificate":
            command.add_argument("--pem", action="store_true", help="print the certificate as PEM")
    sub.add_parser("serve", help="run the local HTTP API (settings from CARD_GATEWAY_* variables)")
    return parser


def _readers(gateway: CardGateway, _: argparse.Namespace) -> tuple[dict[str, Any], str]:
    readers = gateway.list_readers()
    doc = {
        "readers": [
            {
                "name": r.name,
                "card_present": r.card_present,
                "in_use": r.in_use,
                "atr": r.atr.hex().upper() if r.atr else None,
            }
            for r in readers
        ]
    }
    lines = [
        f"{r.name}\t{'card' if r.card_present else 'empty'}{' (in use)' if r.in_use else ''}" for r in readers
    ]
    return doc, "\n".join(lines) or "no readers / カードリーダーなし"


def _card(gateway: CardGateway, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    status = gateway.card_status(args.reader)
    doc = {
        "reader": status.reader,
        "my_number_card": status.my_number_card,
        "jpki_application": status.jpki_application,
        "token": status.token,
        "atr": status.atr.hex().upper(),
    }
    kind = (
        "My Number Card / マイナンバーカード"
        if status.my_number_card
        else "not a My Number Card / マイナンバーカードではありません"
    )
    return doc, f"{status.reader}: {kind} (token={status.token or '-'}, ATR={doc['atr']})"


def _certificate(gateway: CardGateway, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    read = gateway.read_auth_certificate(args.reader)
    details = describe_certificate(read.der)
    doc = {
        "reader": read.reader,
        "kind": read.kind.value,
        "subject": details.subject,
        "issuer": details.issuer,
        "serial_number": details.serial_number,
        "not_before": details.not_before.isoformat(),
        "not_after": details.not_after.isoformat(),
    }
    if args.pem:
        return {**doc, "pem": details.pem}, details.pem.rstrip()
    return doc, "\n".join(f"{k}: {v}" for k, v in doc.items())


def _tries_text(kind: PinKind, tries: int | None) -> str:
    """Return ``2/3``, ``0/3 BLOCKED`` or ``unknown/3`` for one PIN."""
    if tries is None:
        return f"unknown / 不明 (max {kind.max_tries}; the card did not report it / カードが返しません)"
    return f"{tries}/{kind.max_tries}{' BLOCKED / ロック中' if tries == 0 else ''}"


def _tries(gateway: CardGateway, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    tries = gateway.pin_tries(args.reader)
    doc = {"reader": tries.reader, "auth": tries.auth, "signature": tries.signature}
    text = (
        f"{tries.reader}\n"
        f"auth PIN / 利用者証明用: {_tries_text(PinKind.AUTH, tries.auth)}\n"
        f"signature PIN / 署名用: {_tries_text(PinKind.SIGNATURE, tries.signature)}"
    )
    return doc, text


_COMMANDS: dict[str, Callable[[CardGateway, argparse.Namespace], tuple[dict[str, Any], str]]] = {
    "readers": _readers,
    "card": _card,
    "certificate": _certificate,
    "tries": _tries,
}


def main(
    argv: list[str] | None = None, *, gateway: CardGateway | None = None, out: TextIO | None = None
) -> int:
    """Run one diagnostic command; exit 0 on success, 1 on a card error (code and messages printed)."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from card_gateway.config import CardGatewaySettings
        from card_gateway.main import run

        run(CardGatewaySettings())  # values come from the environment
        return 0
    if gateway is None:
        from card_gateway.bootstrap import build_backend

        gateway = CardGateway(
            build_backend("shared" if args.shared else "exclusive"), operation_timeout_s=args.timeout
        )
    try:
        doc, text = _COMMANDS[args.command](gateway, args)
    except CardGatewayError as exc:
        if args.json:
            print(
                json.dumps(
                    {
                        "code": exc.code,
                        "message_ja": exc.message_ja,
                        "message_en": exc.message_en,
                        **exc.details,
                    },
                    ensure_ascii=False,
                ),
                file=out,
            )
        else:
            print(f"error {exc.code}\n{exc.message_ja}\n{exc.message_en}", file=out)
        return 1
    print(json.dumps(doc, ensure_ascii=False, indent=2) if args.json else text, file=out)
    return 0
