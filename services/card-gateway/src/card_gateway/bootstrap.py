"""Composition root: the one place that chooses the PC/SC adapter (tests pass a fake or a real backend here)."""

from __future__ import annotations

from card_gateway.config import CardGatewaySettings
from card_gateway.service_layer.gateway import CardGateway
from card_gateway.service_layer.ports import ReaderBackend


def build_backend(share_mode: str = "exclusive") -> ReaderBackend:
    """Return the pyscard backend (imported lazily so that unit tests never load pyscard)."""
    from card_gateway.adapters.pcsc import PcscBackend

    return PcscBackend(share_mode="shared" if share_mode == "shared" else "exclusive")


def build_gateway(settings: CardGatewaySettings, *, backend: ReaderBackend | None = None) -> CardGateway:
    """Return the gateway with the configured timeouts over the given (or the PC/SC) backend."""
    return CardGateway(
        backend or build_backend(settings.share_mode),
        operation_timeout_s=settings.operation_timeout_s,
        busy_timeout_s=settings.busy_timeout_s,
    )
