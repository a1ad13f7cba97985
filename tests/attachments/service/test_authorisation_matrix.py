"""Every route of applications and attachments × every role, from their OpenAPI documents (issue 12).

The route list is generated from each app's ``app.openapi()``; ``EXPECTED`` says, per route pattern, what each role
gets. A route missing from the table (a new one) fails the test, so no route escapes the matrix.

Outcomes: ``ok`` the caller is let through (2xx, or a business refusal 409/422/428 that only comes after the
authorisation check); ``deny`` 403 or 404; ``anon`` 401; ``public`` 200 for everyone; ``sees``/``hidden`` a list
answering 200 with or without the application. Officers never see drafts: every route an officer of the bureau may
use on the submitted application is tried on the draft too and must be denied.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from shared.auth import APPLICANT_ROLE, OFFICER_ROLE, OPERATOR_ROLE, Principal, TokenSigner
from tests.applications.integration.applications_support import accept, random_bureau
from tests.attachments.service.conftest import ApplicationsService
from tests.attachments.service.support import AttachmentsStack
from tests.attachments.service.test_mynaportal import LAST_YEAR
from tests.attachments.service.test_with_applications import attach, new_draft, shown
from tests.e2e.e2e_support import clean_pdf
from tests.support.apps import Infra, eventually

pytestmark = pytest.mark.integration

ROLES = (
    "applicant",
    "other_applicant",
    "relative_within",
    "relative_beyond",
    "legal_representative",
    "officer_of_bureau",
    "officer_elsewhere",
    "operator",
    "no_token",
)

PUBLIC = dict.fromkeys(ROLES, "public")
FILER = {
    "applicant": "ok",
    "other_applicant": "deny",
    "relative_within": "ok",
    "relative_beyond": "deny",
    "legal_representative": "ok",
    "officer_of_bureau": "deny",
    "officer_elsewhere": "deny",
    "operator": "deny",
    "no_token": "anon",
}
READER = FILER | {"officer_of_bureau": "ok"}  # on the submitted application
OFFICER = dict.fromkeys(ROLES, "deny") | {"officer_of_bureau": "ok", "no_token": "anon"}
OPERATOR = dict.fromkeys(ROLES, "deny") | {"operator": "ok", "no_token": "anon"}
OWN_ONLY = dict.fromkeys(ROLES, "deny") | {"applicant": "ok", "no_token": "anon"}

# (method, path pattern) → (target, expectations). Targets: "draft", "submitted", "none" (no application).
EXPECTED: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("GET", "/alive"): ("none", PUBLIC),
    ("GET", "/ready"): ("none", PUBLIC),
    ("GET", "/api/applications/reference"): ("none", PUBLIC),
    ("GET", "/api/applications/reference/procedures"): ("none", PUBLIC),
    ("GET", "/api/applications/reference/statuses"): ("none", PUBLIC),
    ("GET", "/api/applications/reference/application-states"): ("none", PUBLIC),
    ("GET", "/api/applications/reference/forms"): ("none", PUBLIC),
    ("GET", "/api/applications/reference/required-attachments"): ("none", PUBLIC),
    ("GET", "/api/applications/reference/fees"): ("none", PUBLIC),
    ("GET", "/api/applications/reference/bureaus"): ("none", PUBLIC),
    ("POST", "/api/applications"): ("draft", FILER),  # a draft for the applicant
    ("GET", "/api/applications"): (
        "draft",
        FILER
        | {r: "hidden" for r, v in FILER.items() if v == "deny"}
        | {r: "sees" for r, v in FILER.items() if v == "ok"},
    ),
    ("GET", "/api/applications/{application_id}"): ("draft", FILER),
    ("DELETE", "/api/applications/{application_id}"): ("draft", FILER),
    ("GET", "/api/applications/{application_id}/validation"): ("draft", FILER),
    ("PATCH", "/api/applications/{application_id}/case"): ("draft", FILER),
    ("PATCH", "/api/applications/{application_id}/forms/{procedure}"): ("draft", FILER),
    ("PUT", "/api/applications/{application_id}/forms/{procedure}/steps/{step}"): ("draft", FILER),
    ("POST", "/api/applications/{application_id}/submit"): ("draft", FILER),
    ("POST", "/api/applications/{application_id}/resubmit"): ("draft", FILER),
    ("POST", "/api/applications/{application_id}/withdraw"): ("draft", FILER),
    ("GET", "/api/back-office/applications"): (
        "submitted",
        OFFICER | {"officer_of_bureau": "sees", "officer_elsewhere": "hidden"},
    ),
    ("GET", "/api/back-office/applications/{application_id}"): ("submitted", OFFICER),
    ("POST", "/api/back-office/applications/{application_id}/start-review"): ("submitted", OFFICER),
    ("POST", "/api/back-office/applications/{application_id}/return"): ("submitted", OFFICER),
    ("POST", "/api/back-office/applications/{application_id}/documents-received"): ("submitted", OFFICER),
    ("POST", "/api/back-office/applications/{application_id}/complete-review"): ("submitted", OFFICER),
    ("POST", "/api/back-office/applications/{application_id}/dispatch-card"): ("submitted", OFFICER),
    ("POST", "/api/back-office/applications/{application_id}/refuse"): ("submitted", OFFICER),
    ("POST", "/api/back-office/applications/{application_id}/close"): ("submitted", OFFICER),
    ("POST", "/api/back-office/jobs/assign-receipt-numbers"): ("none", OPERATOR),
    ("POST", "/api/attachments/applications/{application_id}/attachments"): ("draft", FILER),
    ("GET", "/api/attachments/applications/{application_id}"): ("submitted", READER),
    ("GET", "/api/attachments/applications/{application_id}/rounds"): ("submitted", READER),
    ("GET", "/api/attachments/applications/{application_id}/rounds/{round_number}"): ("submitted", READER),
    ("PUT", "/api/attachments/applications/{application_id}/rounds/{round_number}/declaration"): (
        "draft",
        FILER,
    ),
    ("GET", "/api/attachments/attachments/{attachment_id}"): ("submitted", READER),
    ("DELETE", "/api/attachments/attachments/{attachment_id}"): ("draft", FILER),
    ("GET", "/api/attachments/attachments/{attachment_id}/content"): ("submitted", READER),
    ("POST", "/api/attachments/applications/{application_id}/tax-info/fetches"): ("draft", OWN_ONLY),
    ("POST", "/api/attachments/applications/{application_id}/tax-info"): ("draft", OWN_ONLY),
}

# Routes whose success changes what the next caller would meet: each allowed caller gets a fresh target.
CONSUMING = {
    ("DELETE", "/api/applications/{application_id}"),
    ("DELETE", "/api/attachments/attachments/{attachment_id}"),
}


def routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of an app's OpenAPI document."""
    return [(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops]


@dataclass
class Target:
    """An application a route is tried on, with one of its attachments."""

    application_id: uuid.UUID
    attachment_id: str
    fetch_id: str | None = None


@dataclass
class World:
    """The people and applications of the matrix."""

    signer: TokenSigner
    bureau: str
    people: dict[str, Principal | None] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """The Authorization header of a role (none for no_token)."""
        principal = self.people[role]
        return {} if principal is None else {"Authorization": f"Bearer {self.signer.sign(principal)}"}


def principal(roles: set[str], category: str, **extra: Any) -> Principal:
    """A new principal."""
    return Principal(user_id=uuid.uuid4(), roles=frozenset(roles), category=category, **extra)


def make_world(infra: Infra) -> World:
    """The nine roles around one applicant."""
    bureau = random_bureau()
    owner = principal({APPLICANT_ROLE}, "foreign_national")
    linked = frozenset({owner.user_id})
    world = World(signer=TokenSigner(infra.private_key), bureau=bureau)
    world.people = {
        "applicant": owner,
        "other_applicant": principal({APPLICANT_ROLE}, "foreign_national"),
        "relative_within": principal({APPLICANT_ROLE}, "relative", acts_for=linked),
        "relative_beyond": principal(
            {APPLICANT_ROLE}, "relative"
        ),  # conditions lapsed: identity lists nobody
        "legal_representative": principal({APPLICANT_ROLE}, "legal_representative", acts_for=linked),
        "officer_of_bureau": principal({OFFICER_ROLE}, "officer", bureau=bureau),
        "officer_elsewhere": principal({OFFICER_ROLE}, "officer", bureau=random_bureau()),
        "operator": principal({OPERATOR_ROLE}, "operator"),
        "no_token": None,
    }
    return world


async def draft_target(stack: AttachmentsStack, applications: httpx.AsyncClient, world: World) -> Target:
    """A draft of the applicant with one uploaded PDF."""
    owner = world.headers("applicant")
    application_id, _ = await new_draft(applications, owner, bureau=world.bureau)
    # Content of its own: a blob shared with a draft deleted meanwhile could be released under this upload (503).
    content = clean_pdf(f"draft {uuid.uuid4()}")
    attachment_id = await attach(stack, owner, application_id, "supporting_documents_pdf", content)
    return Target(application_id, attachment_id)


async def submitted_target(
    stack: AttachmentsStack, applications: httpx.AsyncClient, world: World, infra: Infra
) -> Target:
    """A submitted application of the applicant (one real file, the other required ones accepted by event)."""
    owner = world.headers("applicant")
    application_id, path = await new_draft(applications, owner, bureau=world.bureau)
    real = await attach(stack, owner, application_id, "form19_supplementary", clean_pdf("form19"))
    faked = await accept(
        infra, application_id, "face_photo", "supporting_documents_pdf", "host_organisation_form"
    )
    await shown(applications, path, owner, {real, *(str(i) for i in faked)})
    submitted = await applications.post(f"{path}/submit", headers=owner)
    assert submitted.status_code == 200, submitted.text

    async def known_as_submitted() -> bool:
        response = await stack.client.get(
            f"/api/attachments/applications/{application_id}", headers=world.headers("officer_of_bureau")
        )
        return response.status_code == 200

    await eventually(known_as_submitted, timeout=60, interval=0.2)
    return Target(application_id, real)


def request_for(method: str, pattern: str, target: Target) -> dict[str, Any]:
    """The request a route is called with: ids filled in, a well-formed body."""
    path = pattern.format(
        application_id=target.application_id,
        attachment_id=target.attachment_id,
        procedure="extension",
        step="1",
        round_number=1,
    )
    request: dict[str, Any] = {"method": method, "url": path}
    if pattern.endswith("/required-attachments"):
        request["params"] = {"procedure": "extension", "category": "self"}
    if pattern == "/api/applications" and method == "POST":
        request["json"] = {
            "procedures": [{"code": "extension"}],
            "applicant": {
                "date_of_birth": "1995-05-01",
                "current_status": {"code": "engineer_humanities_international"},
            },
            "applicant_id": "{applicant}",
            "bureau": "TKY",
        }
    elif pattern.endswith("/forms/{procedure}") or pattern.endswith("/steps/{step}"):
        request["json"] = {"nationality": "VIET NAM"}
    elif pattern.endswith("/case"):
        request["json"] = {"applicant": {"locale": "ja"}}
    elif pattern.endswith("/documents-received"):
        request["json"] = {"channel": "post"}
    elif pattern.endswith("/return"):
        request["json"] = {"requested_documents": [{"description": "課税証明書"}]}
    elif pattern.endswith("/declaration"):
        request["json"] = {"declaration": "more_will_be_attached_later"}
    elif pattern.endswith("/attachments") and method == "POST":
        request["params"] = {"document_type": "supporting_documents_pdf", "filename": "matrix.pdf"}
        request["content"] = clean_pdf("matrix")
    elif pattern.endswith("/tax-info/fetches"):
        request["json"] = {"person_name": "NGUYEN VAN AN", "fiscal_year": LAST_YEAR}
    elif pattern.endswith("/tax-info"):
        request["json"] = {"fetch_id": target.fetch_id or str(uuid.uuid4())}
    return request


def judge(outcome: str, response: httpx.Response, target: Target) -> str | None:
    """None when the response fits the expected outcome, else what was wrong."""
    status = response.status_code
    code = (
        response.json().get("code")
        if response.headers.get("content-type", "").endswith("json") and status >= 400
        else None
    )
    if outcome == "public":
        return None if status == 200 else f"expected 200, got {status}"
    if outcome == "anon":
        return None if status == 401 else f"expected 401, got {status}"
    if outcome == "deny":
        return None if status in (403, 404) else f"expected 403/404, got {status} {response.text[:200]}"
    if outcome in ("sees", "hidden"):
        if status != 200:
            return f"expected 200, got {status}"
        listed = str(target.application_id) in response.text
        return None if listed == (outcome == "sees") else f"expected the application {outcome}"
    assert outcome == "ok"
    if status in (401, 403, 404) or status >= 500:
        return f"expected to be let through, got {status} {response.text[:200]}"
    if code == "request.invalid":
        return f"the matrix sent a malformed request: {response.text[:300]}"
    return None


async def test_every_route_of_applications_and_attachments_for_every_role(
    stack: AttachmentsStack,
    applications_service: ApplicationsService,
    infra: Infra,
    mynaportal_simulator: str,
) -> None:
    table = {
        "applications": (applications_service.client, routes(applications_service.app)),
        "attachments": (stack.client, routes(stack.app)),
    }
    missing = [
        f"{service}: {m} {p}"
        for service, (_, found) in table.items()
        for m, p in found
        if (m, p) not in EXPECTED
    ]
    assert not missing, f"routes without a row in the authorisation matrix: {missing}"
    world = make_world(infra)
    applications = applications_service.client
    draft = await draft_target(stack, applications, world)
    fetched = await stack.client.post(
        f"/api/attachments/applications/{draft.application_id}/tax-info/fetches",
        json={"person_name": "NGUYEN VAN AN", "fiscal_year": LAST_YEAR},
        headers=world.headers("applicant"),
    )
    assert fetched.status_code == 201, fetched.text
    draft.fetch_id = fetched.json()["fetch_id"]
    submitted = await submitted_target(stack, applications, world, infra)
    owner_id = str(world.people["applicant"].user_id)  # type: ignore[union-attr]

    async def call(
        client: httpx.AsyncClient, method: str, pattern: str, target: Target, role: str
    ) -> httpx.Response:
        request = request_for(method, pattern, target)
        if "json" in request and request["json"].get("applicant_id") == "{applicant}":
            request["json"] = request["json"] | {"applicant_id": owner_id}
        return await client.request(**request, headers=world.headers(role))

    fresh: dict[str, Callable[[], Awaitable[Target]]] = {
        "draft": lambda: draft_target(stack, applications, world),
    }
    failures = []
    for service, (client, found) in table.items():
        for method, pattern in found:
            kind, expected = EXPECTED[(method, pattern)]
            target = {"draft": draft, "submitted": submitted, "none": draft}[kind]
            # Denied callers first: a caller let through may change the target for the next one.
            for role in sorted(ROLES, key=lambda r: expected[r] == "ok"):
                use = (
                    await fresh[kind]()
                    if (method, pattern) in CONSUMING and expected[role] == "ok"
                    else target
                )
                response = await call(client, method, pattern, use, role)
                problem = judge(expected[role], response, use)
                if problem:
                    failures.append(f"{service} {method} {pattern} as {role}: {problem}")
                if kind == "submitted" and role == "officer_of_bureau" and expected[role] in ("ok", "sees"):
                    on_draft = await call(client, method, pattern, draft, role)
                    hidden = "hidden" if expected[role] == "sees" else "deny"
                    problem = judge(hidden, on_draft, draft)
                    if problem:
                        failures.append(f"{service} {method} {pattern} as {role} on a draft: {problem}")
    assert not failures, "\n".join(failures)
