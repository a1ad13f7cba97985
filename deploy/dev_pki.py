"""The local stack's JPKI stand-in: a test PKI kept under ``var/jpki`` and an OCSP responder SIMULATOR for it.

J-LIS serves the real CAs and revocation only to registered verifiers, so the development stack trusts its own
JPKI-like CAs (``shared.testing.jpki``), answers revocation with ``identity.adapters.ocsp_simulator``, and gives a
demo card (``var/jpki/card``) that ``python -m card_gateway.virtual_card --card-dir var/jpki/card`` presents
through the real pcscd.

    python deploy/dev_pki.py ensure --dir var/jpki
    python deploy/dev_pki.py ocsp --dir var/jpki --port 8110
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KINDS = ("auth", "sign")
GENERATIONS = ("2015", "2023")


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def ensure(directory: Path) -> None:
    """Create the PKI and a demo card once; later calls keep what exists."""
    if (directory / "auth-2023.pem").exists():
        return
    from shared.testing.jpki import TestPki

    directory.mkdir(parents=True, exist_ok=True)
    pki = TestPki.create(datetime.now(UTC))
    for kind in KINDS:
        for generation in GENERATIONS:
            ca = pki.ca(kind, generation)  # type: ignore[arg-type]
            (directory / f"{kind}-{generation}.pem").write_bytes(
                ca.certificate.public_bytes(serialization.Encoding.PEM)
            )
            _write_key(directory / f"{kind}-{generation}.key.pem", ca.key)
    card = pki.issue_card()
    card_dir = directory / "card"
    card_dir.mkdir(exist_ok=True)
    for kind in KINDS:
        (card_dir / f"{kind}_cert.der").write_bytes(card.cert_der(kind))  # type: ignore[arg-type]
        (card_dir / f"{kind}_ca.der").write_bytes(card.ca_der(kind))  # type: ignore[arg-type]
        _write_key(card_dir / f"{kind}_key.pem", card.key(kind))  # type: ignore[arg-type]


def ca_files(directory: Path, kind: str) -> list[Path]:
    """Return the CA certificate files of one kind, every generation."""
    return [directory / f"{kind}-{generation}.pem" for generation in GENERATIONS]


async def serve_ocsp(directory: Path, port: int) -> None:
    """Serve OCSP (and nothing revoked) for every CA in ``directory`` until SIGTERM."""
    from identity.adapters.ocsp_simulator import OcspSimulator, SimulatedCa

    cas = []
    for kind in KINDS:
        for generation in GENERATIONS:
            cert = x509.load_pem_x509_certificate((directory / f"{kind}-{generation}.pem").read_bytes())
            key = serialization.load_pem_private_key(
                (directory / f"{kind}-{generation}.key.pem").read_bytes(), password=None
            )
            assert isinstance(key, rsa.RSAPrivateKey)
            cas.append(SimulatedCa(certificate=cert, key=key))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with OcspSimulator(cas, port=port):
        await stop.wait()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["ensure", "ocsp"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8110)
    args = parser.parse_args()
    ensure(args.dir)
    if args.command == "ocsp":
        asyncio.run(serve_ocsp(args.dir, args.port))


if __name__ == "__main__":
    main()
