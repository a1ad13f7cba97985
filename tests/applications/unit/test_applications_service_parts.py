"""Parts of the service around the domain: storage format, versions, the nightly schedule, event mapping, HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path

import httpx
import pytest

from applications.adapters.repository import AttachmentRecord, summary_of_round
from applications.adapters.serialization import dump_application, load_application
from applications.config import ApplicationsSettings, ReceiptJobSettings
from applications.domain.application import Application
from applications.domain.clock import JAPAN, FixedClock
from applications.domain.errors import ReferenceDataInvalid, SubmissionBlocked
from applications.domain.values import AttachmentState, RequestedDocument
from applications.entrypoints.consumers import document_kind
from applications.entrypoints.jobs import next_run, receipt_number_job
from applications.main import create_app
from applications.reference import ReferenceData
from applications.service_layer.services import PreallocatedSequence, parse_if_match
from shared.auth import generate_keypair
from shared.events import AttachmentAccepted, AttachmentUploaded
from shared.settings import AuthSettings, KafkaSettings
from tests.applications.unit.applications_builders import (
    SELF_EXTENSION_ATTACHMENTS,
    CountingSequence,
    attachments,
    extension_form,
    make_case,
)

pytestmark = pytest.mark.unit


def offline_settings(**overrides: object) -> ApplicationsSettings:
    """Settings that are never connected (the app is used without its lifespan)."""
    values: dict[str, object] = {
        "database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        "kafka": KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        "auth": AuthSettings(public_key_pem=generate_keypair()[1]),
        "receipt_job": ReceiptJobSettings(enabled=False),
    }
    return ApplicationsSettings(**(values | overrides))  # type: ignore[arg-type]


def a_whole_life(reference: ReferenceData, clock: FixedClock) -> Application:
    app = Application.create_draft(
        application_id=str(uuid.uuid4()),
        case=make_case(),
        actor_id="user-1",
        reference=reference,
        clock=clock,
    )
    app.save_draft("extension", extension_form(), reference=reference, clock=clock)
    app.submit(
        actor_id="user-1",
        attachments=attachments(*SELF_EXTENSION_ATTACHMENTS),
        reference=reference,
        clock=clock,
        sequence=CountingSequence(),
    )
    app.assign_receipt_number("TKY-20250603-000001", actor_id="batch", clock=clock)
    app.start_review(actor_id="officer-1", clock=clock)
    app.return_for_documents(
        [RequestedDocument("在職証明書", "supporting_documents_pdf")], actor_id="o", clock=clock
    )
    app.resubmit_documents(
        actor_id="user-1",
        attachments=attachments("supporting_documents_pdf"),
        reference=reference,
        clock=clock,
    )
    app.complete_review(actor_id="officer-1", reference=reference, clock=clock)
    return app


def test_stores_and_restores_an_application_with_rounds_history_and_review_outcome(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = a_whole_life(reference, clock)
    restored = load_application(dump_application(app))
    restored.events = app.events
    assert dump_application(restored) == dump_application(app)
    assert restored.review_outcome is not None and restored.review_outcome.fee.total == 5500
    assert restored.rounds[1].requested_documents[0].kind == "supporting_documents_pdf"


def test_reads_if_match_headers_strong_weak_bare_and_any() -> None:
    assert [parse_if_match(h) for h in ('"3"', 'W/"4"', "5", "*", None, '"x"')] == [3, 4, 5, None, None, -1]


def test_a_preallocated_sequence_hands_out_its_number_once_and_only_for_its_day() -> None:
    sequence = PreallocatedSequence(date(2026, 1, 2), 7)
    with pytest.raises(RuntimeError):
        sequence.next_value(date(2026, 1, 3))
    assert sequence.next_value(date(2026, 1, 2)) == 7
    with pytest.raises(RuntimeError):
        sequence.next_value(date(2026, 1, 2))


def test_the_nightly_job_runs_at_0210_japan_time_today_or_tomorrow() -> None:
    job = ReceiptJobSettings(run_at=time(2, 10))
    before = datetime(2026, 1, 1, 16, 0, tzinfo=UTC)  # 01:00 JST on 2 January
    after = datetime(2026, 1, 1, 18, 0, tzinfo=UTC)  # 03:00 JST on 2 January
    assert next_run(before, job) == datetime(2026, 1, 2, 2, 10, tzinfo=JAPAN)
    assert next_run(after, job) == datetime(2026, 1, 3, 2, 10, tzinfo=JAPAN)


async def test_the_nightly_job_sleeps_until_its_time_then_assigns_and_survives_a_failure() -> None:
    slept: list[float] = []
    calls: list[int] = []

    class FakeService:
        async def assign_receipt_numbers(self, *, batch_size: int) -> list[tuple[uuid.UUID, str]]:
            calls.append(batch_size)
            if len(calls) == 1:
                raise RuntimeError("database away")
            return []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise _Stop

    class _Stop(Exception):
        pass

    clock = FixedClock(datetime(2026, 1, 2, 2, 0, tzinfo=JAPAN))
    run = receipt_number_job(FakeService(), ReceiptJobSettings(batch_size=9), clock, sleep=sleep)  # type: ignore[arg-type]
    with pytest.raises(_Stop):
        await run()
    assert slept[0] == 600 and calls == [9, 9]


def test_refuses_an_unknown_time_zone_for_the_job() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        ReceiptJobSettings(timezone="Mars/Olympus")


def test_refuses_to_start_with_bad_reference_data(tmp_path: Path) -> None:
    (tmp_path / "2025-04-01.core.yaml").write_text(
        "effective_from: 2025-04-01\ndescription: broken\npolicy: 3\n"
    )
    with pytest.raises(ReferenceDataInvalid):
        create_app(offline_settings(reference_data_dir=tmp_path))


def test_maps_the_attachment_kind_from_the_document_type_or_the_coarse_kind() -> None:
    ids = {"application_id": uuid.uuid4(), "attachment_id": uuid.uuid4(), "round_number": 1}
    typed = AttachmentAccepted(**ids, kind="document", document_type="form19_supplementary")
    photo = AttachmentAccepted(**ids, kind="photo")
    pdf = AttachmentUploaded(
        **ids, kind="document", sha256="0" * 64, size_bytes=1, filename="a.pdf", uploaded_by=uuid.uuid4()
    )
    assert [document_kind(e) for e in (typed, photo, pdf)] == [
        "form19_supplementary",
        "face_photo",
        "supporting_documents_pdf",
    ]


def test_a_rejected_file_replaced_by_another_of_its_kind_no_longer_blocks_the_round() -> None:
    app_id = uuid.uuid4()

    def record(kind: str, state: AttachmentState, round_number: int = 1) -> AttachmentRecord:
        return AttachmentRecord(uuid.uuid4(), app_id, round_number, kind, "document", state)

    rows = [
        record("supporting_documents_pdf", AttachmentState.REJECTED),
        record("supporting_documents_pdf", AttachmentState.ACCEPTED),
        record("face_photo", AttachmentState.REJECTED),
        record("form19_supplementary", AttachmentState.ACCEPTED, round_number=2),
    ]
    summary = summary_of_round(rows, 1)
    assert [(s.kind, s.state) for s in summary] == [
        ("supporting_documents_pdf", AttachmentState.ACCEPTED),
        ("face_photo", AttachmentState.REJECTED),
    ]


def test_submission_needs_the_applicants_own_address_and_the_declaration_when_over_10mb(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case()
    case = type(case)(
        filer=case.filer,
        applicant=type(case.applicant)(**{**case.applicant.__dict__, "email": None}),
        procedures=case.procedures,
    )
    app = Application.create_draft(
        application_id="a", case=case, actor_id="u", reference=reference, clock=clock
    )
    app.save_draft("extension", extension_form(), reference=reference, clock=clock)
    with pytest.raises(SubmissionBlocked) as caught:
        app.submit(
            actor_id="u",
            attachments=attachments(*SELF_EXTENSION_ATTACHMENTS),
            reference=reference,
            clock=clock,
            sequence=CountingSequence(),
            over_10mb_declared=True,
        )
    assert [r.code for r in caught.value.refusals] == [
        "attachments.declaration_form9_missing",
        "applicant.email_missing",
    ]


async def test_serves_reference_data_for_the_ui_and_refuses_days_before_the_first_version() -> None:
    app = create_app(offline_settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        procedures = (await client.get("/api/applications/reference/procedures")).json()
        statuses = (await client.get("/api/applications/reference/statuses")).json()
        form = (await client.get("/api/applications/reference/forms?procedure=extension")).json()
        needed = (
            await client.get(
                "/api/applications/reference/required-attachments",
                params={"procedure": "extension", "category": "relative", "current_status": "entertainer"},
            )
        ).json()
        fees = (await client.get("/api/applications/reference/fees?as_of=2025-04-01")).json()
        states = (await client.get("/api/applications/reference/application-states")).json()
        early = await client.get("/api/applications/reference/fees?as_of=2020-01-01")
    assert {p["code"] for p in procedures["procedures"]} >= {
        "coe",
        "change",
        "extension",
        "permanent_residence",
    }
    assert next(s for s in statuses if s["code"] == "temporary_visitor")["in_scope"] is False
    assert [f["code"] for f in form] == ["extension_applicant_1"]
    assert [r["code"] for r in needed] == ["photo", "supporting_documents", "relationship_proof"]
    assert {(f["procedure"], f.get("variant"), f["online"]) for f in fees["fees"]} >= {("change", None, 5500)}
    assert [s["state"] for s in states][:3] == ["draft", "submitted", "received"]
    assert early.status_code == 404 and early.json()["code"] == "reference.not_in_force"


def test_the_openapi_document_lists_the_error_codes_of_each_route() -> None:
    document = create_app(offline_settings()).openapi()
    paths = document["paths"]
    submit = paths["/api/applications/{application_id}/submit"]["post"]["responses"]
    assert "application.submission_blocked" in submit["422"]["description"]
    assert "application.invalid_transition" in submit["409"]["description"]
    patch = paths["/api/applications/{application_id}/forms/{procedure}"]["patch"]["responses"]
    assert "application.version_conflict" in patch["409"]["description"] and "428" in patch
    create = paths["/api/applications"]["post"]["responses"]
    assert "application.not_eligible" in create["422"]["description"]
    start = paths["/api/back-office/applications/{application_id}/start-review"]["post"]["responses"]
    assert "auth.role_required" in start["403"]["description"]
    for path, methods in paths.items():
        if path.startswith(("/api/applications/{", "/api/back-office")):
            for method in methods.values():
                assert "401" in method["responses"], path
