"""Routes of the local API: thin translators from HTTP to gateway operations."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from card_gateway.domain.errors import CardGatewayError
from card_gateway.entrypoints.http.schemas import (
    CardStatusPublic,
    CertificatePublic,
    PinCreate,
    PinTriesPublic,
    ReaderPublic,
    ReadersPublic,
    SignatureCreate,
    SignaturePublic,
    decode_challenge,
)
from card_gateway.service_layer.gateway import AsyncCardGateway

router = APIRouter()

ReaderQuery = Annotated[
    str | None,
    Query(max_length=200, description="reader name; default: the first reader holding a My Number Card"),
]


def get_gateway(request: Request) -> AsyncCardGateway:
    """Return the gateway built by create_app."""
    gateway: AsyncCardGateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[AsyncCardGateway, Depends(get_gateway)]


@router.get("/alive", tags=["health"])
async def read_alive() -> dict[str, str]:
    """The process answers."""
    return {"status": "alive", "service": "card-gateway"}


@router.get("/ready", tags=["health"], responses={503: {"description": "the PC/SC service does not answer"}})
async def read_ready(gateway: GatewayDep) -> JSONResponse:
    """The PC/SC service answers."""
    try:
        await gateway.run(gateway.gateway.ping)
    except CardGatewayError as exc:
        return JSONResponse(
            {"status": "not_ready", "service": "card-gateway", "checks": {"pcsc": f"error: {exc.code}"}},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "service": "card-gateway", "checks": {"pcsc": "ok"}})


@router.get("/readers", tags=["card"])
async def read_readers(gateway: GatewayDep) -> ReadersPublic:
    """List the readers present now and whether a card is in each."""
    readers = await gateway.run(gateway.gateway.list_readers)
    return ReadersPublic(readers=[ReaderPublic.of(r) for r in readers])


@router.get("/card", tags=["card"])
async def read_card(gateway: GatewayDep, reader: ReaderQuery = None) -> CardStatusPublic:
    """Tell whether the card in the reader is a My Number Card (JPKI AP and token)."""
    return CardStatusPublic.of(await gateway.run(partial(gateway.gateway.card_status, reader)))


@router.get("/card/auth-certificate", tags=["card"])
async def read_auth_certificate(gateway: GatewayDep, reader: ReaderQuery = None) -> CertificatePublic:
    """Read the user-authentication certificate (no PIN)."""
    return CertificatePublic.of(await gateway.run(partial(gateway.gateway.read_auth_certificate, reader)))


@router.get("/card/pin-tries", tags=["card"])
async def read_pin_tries(gateway: GatewayDep, reader: ReaderQuery = None) -> PinTriesPublic:
    """Read the tries left of both PINs without spending one."""
    return PinTriesPublic.of(await gateway.run(partial(gateway.gateway.pin_tries, reader)))


@router.post("/card/auth-signature", tags=["card"])
async def create_auth_signature(body: SignatureCreate, gateway: GatewayDep) -> SignaturePublic:
    """Sign the challenge with the authentication key (4-digit PIN); returns signature and certificate."""
    challenge = decode_challenge(body.challenge)
    call = partial(
        gateway.gateway.sign_with_auth_key,
        challenge,
        body.pin.get_secret_value(),
        reader=body.reader,
        confirm_last_try=body.confirm_last_try,
    )
    return SignaturePublic.of(await gateway.run(call))


@router.post("/card/signature-certificate", tags=["card"])
async def read_signature_certificate(body: PinCreate, gateway: GatewayDep) -> CertificatePublic:
    """Read the signature certificate (the card releases it only after the signature PIN)."""
    call = partial(
        gateway.gateway.read_signature_certificate,
        body.pin.get_secret_value(),
        reader=body.reader,
        confirm_last_try=body.confirm_last_try,
    )
    return CertificatePublic.of(await gateway.run(call))


@router.post("/card/signature", tags=["card"])
async def create_signature(body: SignatureCreate, gateway: GatewayDep) -> SignaturePublic:
    """Sign the challenge with the signature key (signature PIN); returns signature and certificate."""
    challenge = decode_challenge(body.challenge)
    call = partial(
        gateway.gateway.sign_with_signature_key,
        challenge,
        body.pin.get_secret_value(),
        reader=body.reader,
        confirm_last_try=body.confirm_last_try,
    )
    return SignaturePublic.of(await gateway.run(call))
