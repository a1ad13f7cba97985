"""The services at their HTTP boundary, for the portal's view tests (no network; the real ones are in e2e)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

APPLICATION_ID = str(uuid.UUID(int=7))


def problem(status: int, code: str, ja: str, en: str) -> httpx.Response:
    """A problem-details answer like the services give."""
    return httpx.Response(
        status,
        json={"code": code, "status": status, "message_ja": ja, "message_en": en},
        headers={"content-type": "application/problem+json"},
    )


def summary(state: str = "submitted") -> dict[str, Any]:
    """One line of 申請情報検索."""
    return {
        "id": APPLICATION_ID,
        "version": 3,
        "state": state,
        "state_label": {"ja": "仮受付", "en": "Submitted"},
        "bureau": "TOKYO",
        "applicant_id": str(uuid.UUID(int=1)),
        "procedures": ["extension"],
        "provisional_receipt_number": "P-2026-000123",
        "receipt_number": None,
        "submitted_at": "2026-12-01T01:00:00+00:00",
        "created_at": "2026-11-30T01:00:00+00:00",
        "attachments_accepted": 2,
        "attachments_rejected": 1,
        "attachments_checking": 0,
    }


def detail() -> dict[str, Any]:
    """One application as its applicant sees it."""
    return {
        **summary(),
        "allowed_actions": ["withdraw"],
        "filer_user_id": str(uuid.UUID(int=1)),
        "filer_category": "foreign_national",
        "procedures": [
            {"code": "extension", "variant": None, "name": {"ja": "在留期間更新許可申請", "en": "Extension"}}
        ],
        "status_of_residence": "engineer",
        "over_10mb_declared": False,
        "updated_at": None,
        "form_values": {},
        "rounds": [],
        "attachments": [
            {
                "attachment_id": str(uuid.UUID(int=9)),
                "round_number": 1,
                "kind": "supporting_documents_pdf",
                "kind_name": None,
                "state": "rejected",
                "filename": "documents.pdf",
                "reasons": [
                    {
                        "code": "pdf.encrypted",
                        "message_ja": "パスワードを外してください。",
                        "message_en": "Remove the password.",
                    }
                ],
                "warnings": [],
            }
        ],
        "required_attachments": [],
        "history": [
            {
                "state": "submitted",
                "label": {"ja": "仮受付", "en": "Submitted"},
                "at": "2026-12-01T01:00:00+00:00",
                "actor_id": "x",
                "note": None,
            }
        ],
        "review_outcome": None,
    }


class FakeServices:
    """Answers like identity and applications, and records what the portal sent."""

    PASSWORD = "Correct-Horse-2026!"

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.down = False
        self.passwords_set = 0

    def transport(self) -> httpx.MockTransport:
        """The transport the portal's API client uses in tests."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route one call."""
        self.calls.append(request)
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        path, method = request.url.path, request.method
        if path == "/api/identity/sessions" and method == "POST":
            body = json.loads(request.content)
            if body["password"] != self.PASSWORD:
                return problem(
                    401,
                    "signin.invalid_credentials",
                    "認証IDまたはパスワードが違います。",
                    "The authentication ID or the password is wrong.",
                )
            return httpx.Response(201, json=self.tokens("first"))
        if path == "/api/identity/link-checks":
            token = json.loads(request.content)["token"]
            if token == "good":
                return httpx.Response(200, json={"expires_at": "2026-12-29T00:00:00+00:00"})
            if token == "old":
                return problem(410, "link.expired", "期限切れです。", "The link has expired.")
            return problem(404, "link.unknown", "リンクが違います。", "Unknown link.")
        if path in ("/api/identity/password-setups", "/api/identity/password-resets/completions"):
            body = json.loads(request.content)
            if body["token"] != "good":
                return problem(410, "link.used", "使用済みです。", "The link was used.")
            if len(body["password"]) < 12:
                response = problem(
                    422, "password.rejected", "パスワードが条件に合いません。", "The password breaks rules."
                )
                payload = json.loads(response.content)
                payload["reasons"] = [
                    {
                        "code": "password.too_short",
                        "field": "password",
                        "message_ja": "12文字以上にしてください。",
                        "message_en": "Use at least 12 characters.",
                    }
                ]
                return httpx.Response(422, json=payload)
            self.passwords_set += 1
            return httpx.Response(
                201,
                json={
                    "user_id": str(uuid.UUID(int=1)),
                    "auth_id": "K7Q2M9X4",
                    "password_expires_at": "2027-11-29T00:00:00+00:00",
                },
            )
        if path == "/api/identity/password-resets":
            return httpx.Response(202, json={"message_ja": "送りました。", "message_en": "Sent."})
        if path == "/api/identity/sessions/refresh":
            return httpx.Response(200, json=self.tokens("second"))
        if path == "/api/identity/sessions/sign-out":
            return httpx.Response(204)
        if path == "/api/applications" and method == "GET":
            if request.headers.get("authorization") not in ("Bearer access-first", "Bearer access-second"):
                return problem(401, "auth.required", "サインインが必要です。", "Sign in first.")
            return httpx.Response(200, json={"items": [summary()], "total": 1, "page": 1, "page_size": 20})
        if path == f"/api/applications/{APPLICATION_ID}":
            return httpx.Response(200, json=detail())
        if path.startswith("/api/applications/"):
            return problem(404, "resource.not_found", "見つかりません。", "Not found.")
        return problem(404, "resource.not_found", "見つかりません。", "Not found.")

    @staticmethod
    def tokens(tag: str) -> dict[str, Any]:
        """A sign-in's tokens."""
        return {
            "access_token": f"access-{tag}",
            "token_type": "Bearer",
            "expires_in": 900,
            "refresh_token": f"refresh-{tag}",
            "refresh_expires_at": "2026-12-30T00:00:00+00:00",
            "password_expires_at": None,
        }
