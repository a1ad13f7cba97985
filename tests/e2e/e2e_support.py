"""Helpers of the end-to-end tier: the whole stack as real processes, its dev JPKI, its mailbox, HTTP and polling.

Everything here talks to the stack the way a person or an operator would: HTTP to the services, the SMTP
catcher's ``.eml`` files, and the identity command line for staff accounts. Nothing reads a service's database.
"""

from __future__ import annotations

import base64
import email
import email.policy
import io
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pikepdf
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image

from shared.testing.jpki import GENERATIONS, CardHolder, Kind, TestCa, TestCard, TestPki
from tests.support.stack import ROOT, Ports, Stack

T = TypeVar("T")

#: Generous: on a 2-core machine a first consumer-group join or a checker sandbox can take many seconds.
TIMEOUT = 60.0
PASSWORD = "Kasumigaseki-2026!"
KINDS: tuple[Kind, ...] = ("auth", "sign")


# ------------------------------------------------------------------------------------------------------ the stack
def e2e_ports(offset: int) -> Ports:
    """The e2e stack's ports: 31000 + offset, below the kernel's ephemeral range and apart from the other stacks.

    The developer stack uses 1025/8101…/15432/19092, the integration session 2525/25432/28101…/29092 (+ offset).
    """
    base = 31000 + offset
    return Ports(
        kafka=base + 92,
        kafka_controller=base + 93,
        postgres=base + 432,
        smtp=base + 25,
        services={
            "identity": base + 101,
            "applications": base + 102,
            "attachments": base + 103,
            "notifications": base + 104,
        },
        card_gateway=base + 105,
        ocsp=base + 110,
        mynaportal=base + 199,
        gateway=base + 80,
        gateway_tls=base + 443,
        web=base + 100,
    )


def e2e_stack() -> Stack:
    """The stack of this e2e session, under ``var/test-e2e`` (or ``var/test-e2e-<offset>``)."""
    offset = int(os.environ.get("RAS_TEST_PORT_OFFSET", "0"))
    var = ROOT / "var" / (f"test-e2e-{offset}" if offset else "test-e2e")
    return Stack(var, e2e_ports(offset))


def fresh(stack: Stack) -> None:
    """Stop whatever an interrupted earlier session left running and start from an empty folder."""
    stack.down()
    shutil.rmtree(stack.var, ignore_errors=True)


def running_processes(stack: Stack) -> dict[str, int]:
    """Return the processes of the stack that are still alive (name → pid)."""
    return {name: pid for name, pid in stack.status().items() if pid is not None}


def url(stack: Stack, service: str, path: str) -> str:
    """Return the absolute URL of a path on one service of the stack."""
    return f"http://127.0.0.1:{stack.ports.services[service]}{path}"


# ------------------------------------------------------------------------------------------------------ polling
def eventually(check: Callable[[], T | None], what: str, *, timeout: float = TIMEOUT) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` and the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:.0f}s (last: {last!r})")
        time.sleep(0.2)


# ------------------------------------------------------------------------------------------------------ dev JPKI
def dev_pki(directory: Path) -> TestPki:
    """Rebuild the stack's development JPKI (``deploy/dev_pki.py``) from its PEM files, keys included.

    Identity trusts exactly these CAs and the OCSP simulator answers for them, so every card issued here is
    genuine to the stack. Each ``issue_card()`` makes fresh keys and serials: a new card holder for identity.
    """
    cas: dict[tuple[Kind, str], TestCa] = {}
    for kind in KINDS:
        for generation in GENERATIONS:
            certificate = x509.load_pem_x509_certificate(
                (directory / f"{kind}-{generation}.pem").read_bytes()
            )
            key = serialization.load_pem_private_key(
                (directory / f"{kind}-{generation}.key.pem").read_bytes(), password=None
            )
            assert isinstance(key, rsa.RSAPrivateKey)
            cas[(kind, generation)] = TestCa(
                kind=kind, generation=generation, key=key, certificate=certificate
            )
    return TestPki(now=datetime.now(UTC), cas=cas)


def new_card(pki: TestPki) -> TestCard:
    """Issue a card to a new, obviously fictitious holder."""
    holder = CardHolder(
        name=f"E2E TESTER {secrets.token_hex(3).upper()}",
        date_of_birth=date(1995, 5, 1),
        sex="2",
        address="東京都千代田区霞が関一丁目1番1号",
    )
    return pki.issue_card(holder)


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


# ------------------------------------------------------------------------------------------------------ mail
@dataclass(frozen=True)
class Mail:
    """One message the SMTP catcher kept."""

    recipients: str
    template: str
    subject: str
    text: str


def read_mailbox(directory: Path) -> list[Mail]:
    """Every message in the catcher's folder, oldest first."""
    found = []
    for path in sorted(directory.glob("*.eml")):
        with open(path, "rb") as fh:
            message = email.message_from_binary_file(fh, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        found.append(
            Mail(
                recipients=str(message.get("X-Envelope-To", "")),
                template=str(message.get("X-RAS-Template", "")),
                subject=str(message.get("Subject", "")),
                text=str(text),
            )
        )
    return found


def mails(stack: Stack, address: str, template: str) -> list[Mail]:
    """The messages of one template sent to ``address``."""
    return [
        m
        for m in read_mailbox(stack.mail_dir)
        if m.template == template and address in [r.strip() for r in m.recipients.split(",")]
    ]


def wait_for_mail(stack: Stack, address: str, template: str) -> Mail:
    """Wait until a message of ``template`` reaches ``address``; return the newest one."""
    found = eventually(lambda: mails(stack, address, template), f"the {template} mail to {address}")
    return found[-1]


def link_token(text: str) -> str:
    """The token of the set-up link in a mail (or the command's output): the portal page's query string."""
    match = re.search(r"/password-setup\?token=([A-Za-z0-9_\-]+)", text)
    assert match, f"no set-up link in: {text!r}"
    return match[1]


def random_email(prefix: str) -> str:
    """A unique address."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.jp"


def random_bureau() -> str:
    """A bureau code of this test alone (the applications service's pattern: 2-6 upper-case letters/digits)."""
    return "E" + secrets.token_hex(2).upper()


# ------------------------------------------------------------------------------------------------------ people
@dataclass(frozen=True)
class StaffAccount:
    """What ``python -m identity.cli create-officer`` printed."""

    user_id: str
    auth_id: str
    setup_token: str


def create_staff(stack: Stack, *, email_address: str, bureau: str, role: str) -> StaffAccount:
    """Run identity's administrator command against the stack's database, as an administrator would."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "identity.cli",
            "create-officer",
            "--email",
            email_address,
            "--bureau",
            bureau,
            "--role",
            role,
            "--locale",
            "en",
        ],
        env={**os.environ, **stack.service_env("identity")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    user_id = re.search(r"user_id:\s+(\S+)", done.stdout)
    auth_id = re.search(r"認証ID:\s+(\S+)", done.stdout)
    assert user_id and auth_id, done.stdout
    return StaffAccount(user_id=user_id[1], auth_id=auth_id[1], setup_token=link_token(done.stdout))


def sign_in(client: httpx.Client, stack: Stack, auth_id: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign in with 認証ID and password through identity; return the Authorization header."""
    response = client.post(
        url(stack, "identity", "/api/identity/sessions"), json={"auth_id": auth_id, "password": password}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def set_password(client: httpx.Client, stack: Stack, token: str, password: str = PASSWORD) -> dict[str, Any]:
    """Set the first password with the token of a set-up link; return identity's answer."""
    response = client.post(
        url(stack, "identity", "/api/identity/password-setups"), json={"token": token, "password": password}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def staff_headers(client: httpx.Client, stack: Stack, *, bureau: str, role: str) -> dict[str, str]:
    """Create a staff account on the command line, set its password from the e-mailed link, sign in."""
    address = random_email(role)
    account = create_staff(stack, email_address=address, bureau=bureau, role=role)
    mailed = wait_for_mail(stack, address, "password_setup")
    assert link_token(mailed.text) == account.setup_token, "the mailed link is not the one printed"
    done = set_password(client, stack, account.setup_token)
    assert done["user_id"] == account.user_id
    return sign_in(client, stack, account.auth_id)


# ------------------------------------------------------------------------------------------------------ files
def face_photo(size: tuple[int, int] = (600, 800)) -> bytes:
    """A JPEG with some detail in it; by default portrait 3:4 (600 x 800), as a face photo must be."""
    width, height = size
    image = Image.new("RGB", size, (182, 160, 150))
    for x in range(0, width, 5):
        image.putpixel((x, (x * height // width) % height), (10, 20, 30))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def clean_pdf(title: str, pages: int = 2) -> bytes:
    """A plain A4 text PDF: no encryption, scripts or attachments."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    for number in range(pages):
        pdf.add_blank_page(page_size=(595.0, 842.0))
        page = pdf.pages[-1]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream(f"BT /F1 12 Tf 72 720 Td ({title} {number + 1}) Tj ET".encode())
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class Applicant:
    """A registered foreign national, signed in."""

    user_id: str
    email: str
    auth_id: str
    headers: dict[str, str]


def register_with_card(
    client: httpx.Client,
    stack: Stack,
    card: TestCard,
    address: str,
    *,
    category: str = "foreign_national",
    locale: str = "en",
    representation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Register a card holder as the web page and card-gateway would: challenge, signature, registration."""
    challenge = client.post(
        url(stack, "identity", "/api/identity/card-challenges"), json={"purpose": "registration"}
    )
    assert challenge.status_code == 201, challenge.text
    issued = challenge.json()
    body: dict[str, Any] = {
        "attempt_id": issued["attempt_id"],
        "challenge_id": issued["challenge_id"],
        "certificate": b64(card.cert_der("auth")),
        "signature": b64(card.sign("auth", base64.b64decode(issued["challenge"]))),
        "category": category,
        "email": address,
        "locale": locale,
        "agreed_to_terms": True,
    }
    if representation is not None:
        body["representation"] = representation
    registered = client.post(url(stack, "identity", "/api/identity/registrations"), json=body)
    assert registered.status_code == 201, registered.text
    result: dict[str, Any] = registered.json()
    return result


def register_and_sign_in(client: httpx.Client, stack: Stack, card: TestCard, address: str) -> Applicant:
    """Register a card holder as a foreign national, as the web page and card-gateway would, and sign in.

    challenge → signature by the card's authentication key → registration → the set-up link by mail → password
    → the 認証ID by mail → sign-in with the mailed 認証ID. Every step is asserted.
    """
    identity = "/api/identity"
    registered = register_with_card(client, stack, card, address)
    user_id = registered["user_id"]
    assert registered["category"] == "foreign_national"

    received = wait_for_mail(stack, address, "registration_received")
    assert received.subject.endswith("Your registration was received"), received.subject
    setup_mail = wait_for_mail(stack, address, "password_setup")
    assert setup_mail.subject.endswith("Set your password"), setup_mail.subject
    done = set_password(client, stack, link_token(setup_mail.text))
    assert done["user_id"] == user_id
    again = client.post(
        url(stack, "identity", f"{identity}/password-setups"),
        json={"token": link_token(setup_mail.text), "password": "Another-Passw0rd-2026!"},
    )
    assert again.status_code == 410 and again.json()["code"] == "link.used", again.text

    auth_id_mail = wait_for_mail(stack, address, "auth_id_issued")
    mailed = re.search(r"Authentication ID:\s*(\S+)", auth_id_mail.text)
    assert mailed and mailed[1] == done["auth_id"], auth_id_mail.text
    headers = sign_in(client, stack, mailed[1])
    account = client.get(url(stack, "identity", f"{identity}/me"), headers=headers)
    assert account.status_code == 200, account.text
    assert account.json()["user_id"] == user_id and account.json()["roles"] == ["applicant"]
    assert account.json()["auth_id"] == mailed[1]
    return Applicant(user_id=user_id, email=address, auth_id=mailed[1], headers=headers)
