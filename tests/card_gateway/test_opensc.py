"""OpenSC's own JPKI driver (written against real cards) recognises the virtual card: certificates and PIN tries."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from cryptography import x509

from card_gateway.service_layer.gateway import CardGateway
from card_gateway.virtual_card import VirtualJpkiCard, VpcdCardSlot
from shared.testing.jpki import TestCard
from tests.card_gateway.conftest import AUTH_PIN

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("pkcs15-tool") is None, reason="opensc (pkcs15-tool) is not installed"),
]


def pkcs15_tool(reader: str, *args: str) -> str:
    result = subprocess.run(
        ["pkcs15-tool", "--reader", reader, *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def blocks(output: str, kind: str) -> dict[str, dict[str, str]]:
    """Parse ``<kind> [label]`` blocks of pkcs15-tool output into {label: {field: value}}."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in output.splitlines():
        header = re.match(rf"^{re.escape(kind)} \[(.+)\]$", line)
        if header:
            current = found.setdefault(header.group(1), {})
        elif current is not None and ":" in line and line.startswith("\t"):
            key, value = line.strip().split(":", 1)
            current[key.strip()] = value.strip()
    return found


def test_opensc_lists_the_four_jpki_certificates(
    card_slot: VpcdCardSlot, vpcd_readers: tuple[str, str]
) -> None:
    certificates = blocks(pkcs15_tool(vpcd_readers[0], "--list-certificates"), "X.509 Certificate")
    assert {label: fields["Path"] for label, fields in certificates.items()} == {
        "User Authentication Certificate": "000a",
        "Digital Signature Certificate": "0001",
        "User Authentication Certificate CA": "000b",
        "Digital Signature Certificate CA": "0002",
    }
    assert "private" in certificates["Digital Signature Certificate"]["Object Flags"]


def test_opensc_reads_the_same_authentication_certificate(
    card_slot: VpcdCardSlot, vpcd_readers: tuple[str, str], test_card: TestCard
) -> None:
    pem = pkcs15_tool(vpcd_readers[0], "--read-certificate", "01")
    assert x509.load_pem_x509_certificate(pem.encode()) == x509.load_der_x509_certificate(
        test_card.auth_cert_der
    )


def test_opensc_lists_both_pins_with_the_tries_the_gateway_sees(
    card_slot: VpcdCardSlot,
    vpcd_readers: tuple[str, str],
    pcsc_gateway: CardGateway,
    virtual_card: VirtualJpkiCard,
) -> None:
    pins = blocks(pkcs15_tool(vpcd_readers[0], "--list-pins"), "PIN")
    assert pins["User Authentication PIN"]["Tries left"] == "3"
    assert pins["Digital Signature PIN"]["Tries left"] == "5"
    assert "min_len:4, max_len:4" in pins["User Authentication PIN"]["Length"]
    with pytest.raises(Exception, match="tries left"):
        pcsc_gateway.sign_with_auth_key(bytes(32), "0000")
    pins = blocks(pkcs15_tool(vpcd_readers[0], "--list-pins"), "PIN")
    assert pins["User Authentication PIN"]["Tries left"] == "2"
    pcsc_gateway.sign_with_auth_key(bytes(32), AUTH_PIN)
    assert virtual_card.tries()["auth"] == 3
