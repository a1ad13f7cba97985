"""A virtual JPKI card for tests and demos, plugged into the real pcscd through vsmartcard's vpcd.

Never ship it: vpcd listens on all interfaces. Run standalone with
``python -m card_gateway.virtual_card --port 35963``.
"""

from card_gateway.virtual_card.card import (
    MY_NUMBER_CARD_ATR,
    OTHER_CARD_ATR,
    CardQuirks,
    VirtualCard,
    VirtualJpkiCard,
    VirtualOtherCard,
    pkcs1_v15_sign,
)
from card_gateway.virtual_card.vpcd import DEFAULT_PORT, VpcdCardSlot

__all__ = [
    "DEFAULT_PORT",
    "MY_NUMBER_CARD_ATR",
    "OTHER_CARD_ATR",
    "CardQuirks",
    "VirtualCard",
    "VirtualJpkiCard",
    "VirtualOtherCard",
    "VpcdCardSlot",
    "pkcs1_v15_sign",
]
