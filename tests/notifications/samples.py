"""One sample event per mail, with what its subject and body must say in Japanese and in English."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from shared.events import (
    ApplicationRefused,
    ApplicationReturned,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AttachmentRejected,
    AuthIdIssued,
    CardDispatched,
    Event,
    Finding,
    PasswordExpiring,
    PasswordResetRequested,
    PasswordSetupRequested,
    ReceiptNumberAssigned,
    Recipient,
    ReviewCompleted,
    UserRegistered,
)
from shared.events.applications import Form9Declaration
from shared.events.identity import Locale

EXPIRES = datetime(2026, 12, 26, 6, 0, tzinfo=UTC)  # 15:00 JST
DISPATCHED = datetime(2027, 1, 15, 1, 0, tzinfo=UTC)
DEADLINE = date(2027, 2, 10)
FORM9_LATER_ROUND = Form9Declaration(
    tick="bureau_requested_additional_documents",
    text_ja="申請した地方出入国在留管理官署からの追加資料の提出依頼があったので、在留申請オンラインシステムに資料を追加で添付します。",
    text_en="As the regional immigration services bureau where I applied asked me to submit additional documents, "
    "I will attach further documents through the Residence Application Online System.",
)


@dataclass(frozen=True)
class Sample:
    """An event builder for one recipient, and the phrases each language's mail must contain."""

    template: str
    build: Callable[[str, Locale | None], Event]
    subject_ja: str
    subject_en: str
    body_ja: tuple[str, ...]
    body_en: tuple[str, ...]


def applicant(address: str, locale: Locale | None) -> list[Recipient]:
    """Return the recipients list of an application event with one applicant."""
    return [Recipient(email=address, locale=locale, role="applicant")]


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "registration_received",
        lambda a, loc: UserRegistered(
            user_id=uuid.uuid4(),
            category="foreign_national",
            email=a,
            locale=loc,
        ),
        "利用者情報登録を受け付けました",
        "Your registration was received",
        ("パスワード設定用のリンク", "30日"),
        ("link to set your password", "30 days"),
    ),
    Sample(
        "password_setup",
        lambda a, loc: PasswordSetupRequested(
            user_id=uuid.uuid4(),
            email=a,
            locale=loc,
            setup_url="https://ras.example.jp/setup/TOKEN-abc123",
            expires_at=EXPIRES,
        ),
        "パスワード設定のご案内",
        "Set your password",
        ("https://ras.example.jp/setup/TOKEN-abc123", "2026年12月26日 15:00（日本時間）", "一度だけ"),
        ("https://ras.example.jp/setup/TOKEN-abc123", "26 December 2026, 15:00 JST", "works only once"),
    ),
    Sample(
        "auth_id_issued",
        lambda a, loc: AuthIdIssued(
            user_id=uuid.uuid4(),
            email=a,
            locale=loc,
            auth_id="RA12345678",
        ),
        "認証IDのお知らせ",
        "Your authentication ID",
        ("認証ID: RA12345678", "再発行できません"),
        ("Authentication ID: RA12345678", "cannot be re-issued online"),
    ),
    Sample(
        "password_expiring",
        lambda a, loc: PasswordExpiring(
            user_id=uuid.uuid4(),
            email=a,
            locale=loc,
            expires_at=EXPIRES,
            days_left=7,
        ),
        "パスワードの有効期限まであと7日です",
        "Your password expires in 7 days",
        ("2026年12月26日 15:00（日本時間）", "パスワードを変更してください"),
        ("26 December 2026, 15:00 JST", "change your password"),
    ),
    Sample(
        "password_reset",
        lambda a, loc: PasswordResetRequested(
            user_id=uuid.uuid4(),
            email=a,
            locale=loc,
            reset_url="https://ras.example.jp/reset/TOKEN-xyz789",
            expires_at=EXPIRES,
        ),
        "パスワード再設定のご案内",
        "Reset your password",
        ("https://ras.example.jp/reset/TOKEN-xyz789", "パスワードは変更されません"),
        ("https://ras.example.jp/reset/TOKEN-xyz789", "Your password stays as it is"),
    ),
    Sample(
        "application_submitted",
        lambda a, loc: ApplicationSubmitted(
            application_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            provisional_receipt_number="P2026-000123",
            procedures=["extension", "reentry"],
            status_of_residence="engineer_humanities_international",
            filer_user_id=uuid.uuid4(),
            applicant_id=uuid.uuid4(),
            bureau="tokyo",
            occurred_at=EXPIRES,
        ),
        "申請を受け付けました（仮受付番号 P2026-000123）",
        "Application received (provisional receipt number P2026-000123)",
        ("在留期間更新許可申請", "再入国許可申請", "申請中であることの証明", "2026年12月26日 15:00"),
        ("Extension of period of stay", "Re-entry permit", "proof that an application is pending"),
    ),
    Sample(
        "receipt_number_assigned",
        lambda a, loc: ReceiptNumberAssigned(
            application_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            provisional_receipt_number="P2026-000123",
            receipt_number="R2026-TKY-004567",
        ),
        "受付番号のお知らせ（受付番号 R2026-TKY-004567）",
        "Your receipt number is R2026-TKY-004567",
        ("受付番号: R2026-TKY-004567", "仮受付番号 P2026-000123"),
        ("Receipt number (受付番号): R2026-TKY-004567", "provisional receipt number P2026-000123"),
    ),
    Sample(
        "attachment_rejected",
        lambda a, loc: AttachmentRejected(
            application_id=uuid.uuid4(),
            attachment_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            round_number=1,
            kind="document",
            filename="documents.pdf",
            reasons=[
                Finding(
                    code="pdf.encrypted",
                    message_ja="PDFにパスワードが設定されています。パスワードを外して保存し直してください。",
                    message_en="The PDF has a password. Remove the password and save it again.",
                ),
                Finding(
                    code="pdf.not_iso32000",
                    message_ja="PDFの形式が規格に合っていません。PDFとして印刷し直してください。",
                    message_en="The PDF does not conform to ISO 32000-1. Print it to PDF again.",
                ),
            ],
        ),
        "添付ファイルを受け付けられませんでした",
        "An attached file was not accepted",
        ("documents.pdf", "パスワードを外して保存し直してください", "pdf.not_iso32000"),
        ("documents.pdf", "Remove the password and save it again", "Print it to PDF again"),
    ),
    Sample(
        "application_returned",
        lambda a, loc: ApplicationReturned(
            application_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            officer_id=uuid.uuid4(),
            requested_documents=["在職証明書", "住民税の課税証明書"],
            message="3月末までに提出してください。",
            round_number=2,
            receipt_number="R2026-TKY-004567",
            deadline=DEADLINE,
            declaration_form9=FORM9_LATER_ROUND,
        ),
        "資料の追加提出のお願い（受付番号 R2026-TKY-004567）",
        "Additional documents requested (receipt number R2026-TKY-004567)",
        (
            "在職証明書",
            "住民税の課税証明書",
            "3月末までに提出してください。",
            "第2回",
            "提出期限: 2027年2月10日",
            "参考様式9",
            FORM9_LATER_ROUND.text_ja,
        ),
        (
            "在職証明書",
            "Re-attachment is now open (round 2)",
            "Submit them by: 10 February 2027",
            "reference form 9",
            FORM9_LATER_ROUND.text_en,
        ),
    ),
    Sample(
        "review_completed",
        lambda a, loc: ReviewCompleted(
            application_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            officer_id=uuid.uuid4(),
            fee_yen=5500,
            items_to_send=["fee_payment_form", "return_envelope", "current_residence_card"],
            receipt_number="R2026-TKY-004567",
        ),
        "審査が完了しました（受付番号 R2026-TKY-004567）",
        "Review completed (receipt number R2026-TKY-004567)",
        ("5,500円", "収入印紙", "返信用封筒", "現在お持ちの在留カード"),
        ("JPY 5,500", "revenue stamps", "Return envelope", "Your current residence card"),
    ),
    Sample(
        "card_dispatched",
        lambda a, loc: CardDispatched(
            application_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            officer_id=uuid.uuid4(),
            receipt_number="R2026-TKY-004567",
            dispatched_at=DISPATCHED,
            tracking_number="1234-5678-9012",
        ),
        "在留カード等を発送しました（受付番号 R2026-TKY-004567）",
        "Your residence card has been sent (receipt number R2026-TKY-004567)",
        ("2027年1月15日に発送しました", "お問い合わせ番号（追跡番号）: 1234-5678-9012"),
        ("was sent on 15 January 2027", "Tracking number: 1234-5678-9012"),
    ),
    Sample(
        "application_refused",
        lambda a, loc: ApplicationRefused(
            application_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            officer_id=uuid.uuid4(),
            reason="活動実績が確認できません。",
            receipt_number="R2026-TKY-004567",
            provisional_receipt_number="P2026-000123",
        ),
        "申請の審査結果（不許可）のお知らせ（受付番号 R2026-TKY-004567）",
        "Your application was refused (receipt number R2026-TKY-004567)",
        ("不許可となりました", "活動実績が確認できません。", "今後の手続について", "理由について説明を希望"),
        ("was refused", "活動実績が確認できません。", "What to do next", "hear the reasons for the refusal"),
    ),
    Sample(
        "application_withdrawn",
        lambda a, loc: ApplicationWithdrawn(
            application_id=uuid.uuid4(),
            recipients=applicant(a, loc),
            withdrawn_by=uuid.uuid4(),
            reason="帰国します",
            provisional_receipt_number="P2026-000123",
            occurred_at=EXPIRES,
        ),
        "申請の取下げを受け付けました（仮受付番号 P2026-000123）",
        "Withdrawal of your application confirmed (provisional receipt number P2026-000123)",
        (
            "取下げを2026年12月26日 15:00（日本時間）に受け付けました",
            "帰国します",
            "再開することはできません",
        ),
        ("was received on 26 December 2026, 15:00 JST", "帰国します", "cannot be reopened"),
    ),
)

SAMPLES_BY_TEMPLATE = {s.template: s for s in SAMPLES}


def address(prefix: str = "n") -> str:
    """Return a unique address (the session's mail folder is shared by every test)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.jp"
