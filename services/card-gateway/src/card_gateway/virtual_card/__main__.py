"""Run a virtual My Number Card (or another card) in a vpcd slot until Ctrl-C: ``python -m card_gateway.virtual_card``."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from card_gateway.virtual_card.card import CardQuirks, VirtualCard, VirtualJpkiCard, VirtualOtherCard
from card_gateway.virtual_card.vpcd import DEFAULT_PORT, VpcdCardSlot

# Files read by --card-dir and written by --export.
CARD_FILES = ("auth_cert.der", "auth_key.pem", "auth_ca.der", "sign_cert.der", "sign_key.pem", "sign_ca.der")


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    """Load an unencrypted PEM RSA private key."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SystemExit(f"{path}: not an RSA private key")
    return key


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    """Write an unencrypted PEM private key readable by the owner only."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def build_card(args: argparse.Namespace) -> VirtualCard:
    """Build the card the options describe: from --card-dir, or with a fresh test PKI (shared.testing.jpki)."""
    if args.other:
        return VirtualOtherCard()
    if args.card_dir:
        d = Path(args.card_dir)
        auth_cert, sign_cert = (d / "auth_cert.der").read_bytes(), (d / "sign_cert.der").read_bytes()
        auth_key, sign_key = _load_key(d / "auth_key.pem"), _load_key(d / "sign_key.pem")
        auth_ca = (d / "auth_ca.der").read_bytes() if (d / "auth_ca.der").exists() else b""
        sign_ca = (d / "sign_ca.der").read_bytes() if (d / "sign_ca.der").exists() else b""
    else:
        from shared.testing.jpki import TestPki

        card = TestPki.create(datetime.now(UTC)).issue_card()
        auth_cert, sign_cert, auth_key, sign_key = (
            card.auth_cert_der,
            card.sign_cert_der,
            card.auth_key,
            card.sign_key,
        )
        auth_ca, sign_ca = card.auth_ca_der, card.sign_ca_der
    if args.export:
        out = Path(args.export)
        out.mkdir(parents=True, exist_ok=True)
        for name, blob in (
            ("auth_cert.der", auth_cert),
            ("auth_ca.der", auth_ca),
            ("sign_cert.der", sign_cert),
            ("sign_ca.der", sign_ca),
        ):
            (out / name).write_bytes(blob)
        _write_key(out / "auth_key.pem", auth_key)
        _write_key(out / "sign_key.pem", sign_key)
    return VirtualJpkiCard(
        auth_certificate=auth_cert,
        auth_key=auth_key,
        sign_certificate=sign_cert,
        sign_key=sign_key,
        auth_ca_certificate=auth_ca,
        sign_ca_certificate=sign_ca,
        auth_pin=args.auth_pin,
        sign_pin=args.sign_pin,
        auth_tries=args.auth_tries,
        sign_tries=args.sign_tries,
        token=args.token,
        quirks=CardQuirks(
            tries_query_answers_ok=args.tries_query_9000,
            wrong_pin_without_counter=args.wrong_pin_6300,
            read_limit=args.read_limit,
            end_of_file_warning=args.eof_6282,
            token_length=args.token_length,
        ),
    )


def main(argv: list[str] | None = None) -> int:
    """Parse options, insert the card into vpcd and keep it there until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m card_gateway.virtual_card", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="where vpcd (inside pcscd) listens")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="35963 = slot 0, 35964 = slot 1")
    parser.add_argument("--auth-pin", default="1234", help="user authentication PIN (4 digits)")
    parser.add_argument("--sign-pin", default="ABC123", help="signature PIN (6-16 of A-Z, 0-9)")
    parser.add_argument("--auth-tries", type=int, default=3)
    parser.add_argument("--sign-tries", type=int, default=5)
    parser.add_argument("--token", default="JPKIAPICCTOKEN2", help="JPKIAPICCTOKEN = an old 住基カード")
    parser.add_argument("--other", action="store_true", help="pretend to be a card without the JPKI AP")
    quirks = parser.add_argument_group("quirks", "answer like other JPKI implementations (tests and demos)")
    quirks.add_argument("--tries-query-9000", action="store_true", help="VERIFY without data answers 90 00")
    quirks.add_argument(
        "--wrong-pin-6300", action="store_true", help="a wrong PIN answers 63 00 (no counter)"
    )
    quirks.add_argument("--read-limit", type=int, help="READ BINARY returns at most this many bytes")
    quirks.add_argument(
        "--eof-6282", action="store_true", help="reads reaching the end of a file answer 62 82"
    )
    quirks.add_argument("--token-length", type=int, default=32, help="size of the token EF (default 32)")
    parser.add_argument("--card-dir", help=f"load {', '.join(CARD_FILES)} from this folder")
    parser.add_argument("--export", help="write the card's certificates and keys to this folder")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    card = build_card(args)
    slot = VpcdCardSlot(card, host=args.host, port=args.port)
    print(f"virtual card {card!r} for vpcd at {args.host}:{args.port}; Ctrl-C to remove it", file=sys.stderr)
    try:
        slot.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        slot.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
