"""Errors as RFC 9457 problem details with a stable code and a message in Japanese and English."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.failures import is_transient

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """An error a client can act on: HTTP status, stable machine code, and what to do in ja and en."""

    def __init__(
        self,
        status: int,
        code: str,
        message_ja: str,
        message_en: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.status = status
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en
        self.extra = extra or {}
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r})"

    def to_problem(self) -> dict[str, Any]:
        """Return the problem-details body."""
        return {
            "type": f"urn:ras:error:{self.code}",
            "title": self.message_en,
            "status": self.status,
            "code": self.code,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
            **self.extra,
        }


def problem(error: AppError) -> JSONResponse:
    """Render an AppError as a problem+json response."""
    return JSONResponse(
        error.to_problem(), status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers or None
    )


_HTTP_CODES: dict[int, tuple[str, str, str]] = {
    400: (
        "request.malformed",
        "送信されたデータを読み取れませんでした。形式（JSON など）を確認して送り直してください。",
        "The request body could not be read. Check its format (e.g. JSON) and send it again.",
    ),
    401: (
        "auth.required",
        "サインインが必要です。サインインしてからやり直してください。",
        "Sign in first, then try again.",
    ),
    403: ("auth.forbidden", "この操作を行う権限がありません。", "You are not allowed to do this."),
    404: (
        "resource.not_found",
        "指定されたものが見つかりません。URL を確認してください。",
        "Not found. Check the address.",
    ),
    405: ("request.method_not_allowed", "この方法では操作できません。", "This method is not allowed here."),
    408: (
        "request.timeout",
        "データの受信に時間がかかりすぎたため中断しました。通信環境を確認して送り直してください。",
        "The request took too long to arrive. Check your connection and send it again.",
    ),
    413: ("request.too_large", "送信されたデータが大きすぎます。", "The request is too large."),
}


#: Seconds a client is asked to wait when a dependency is away (``Retry-After``).
RETRY_AFTER_S = 5


def service_unavailable(retry_after_s: int = RETRY_AFTER_S) -> AppError:
    """Return the 503 problem for a request that failed because a dependency is away for a moment."""
    return AppError(
        503,
        "service.unavailable",
        f"ただいま一時的に処理できません。{retry_after_s} 秒ほど待ってからもう一度お試しください。"
        "これまでに保存した内容は失われていません。",
        f"We cannot handle this right now: part of the system is briefly unavailable. Please try again in "
        f"about {retry_after_s} seconds; what you saved before is kept.",
        extra={"retry_after_s": retry_after_s},
        headers={"Retry-After": str(retry_after_s)},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error leave the service as problem details with ja and en messages."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "problem": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        names = ", ".join(f["field"] for f in fields)
        return problem(
            AppError(
                422,
                "request.invalid",
                f"入力内容に誤りがあります（{names}）。各項目を確認して入力し直してください。",
                f"Some fields are not valid ({names}). Check each field and send again.",
                extra={"fields": fields},
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, ja, en = _HTTP_CODES.get(
            exc.status_code,
            (
                f"http.{exc.status_code}",
                "リクエストを処理できませんでした。",
                "The request could not be handled.",
            ),
        )
        return problem(AppError(exc.status_code, code, ja, en))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            log.warning("a dependency is unavailable; answered 503: %r", exc)
            return problem(service_unavailable())
        log.exception("unhandled error")
        return problem(
            AppError(
                500,
                "internal.error",
                "システムで問題が発生しました。入力内容は保存されています。しばらくしてからもう一度お試しください。",
                "Something went wrong on our side. Nothing you saved is lost; please try again in a moment.",
            )
        )
