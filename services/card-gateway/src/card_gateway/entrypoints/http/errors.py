"""Gateway errors as problem details: the HTTP status of each machine code."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from card_gateway.domain.errors import CardGatewayError
from shared.errors import AppError, install_error_handlers, problem

# code -> HTTP status (documented in services/card-gateway/README.md).
STATUS_BY_CODE: dict[str, int] = {
    "reader.not_found": 404,
    "card.not_present": 404,
    "card.not_my_number_card": 409,
    "card.unsupported_key": 409,
    "reader.busy": 409,
    "card.removed": 410,
    "pin.invalid_format": 422,
    "challenge.invalid": 422,
    "pin.wrong": 403,
    "pin.blocked": 423,
    "pin.tries_unknown": 409,
    "pin.last_try_confirmation_required": 428,
    "card.communication_error": 502,
    "pcsc.unavailable": 503,
    "operation.timeout": 504,
}


def to_app_error(error: CardGatewayError) -> AppError:
    """Translate a gateway error into the shared problem-details error."""
    return AppError(
        STATUS_BY_CODE.get(error.code, 500),
        error.code,
        error.message_ja,
        error.message_en,
        extra=dict(error.details),
    )


def install_card_error_handlers(app: FastAPI) -> None:
    """Render every error as problem details (shared handlers plus the gateway's own errors)."""
    install_error_handlers(app)

    @app.exception_handler(CardGatewayError)
    async def _card_error(_: Request, exc: CardGatewayError) -> JSONResponse:
        return problem(to_app_error(exc))
