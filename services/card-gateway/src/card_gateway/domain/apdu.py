"""JPKI APDUs: building commands, parsing responses and status words (ISO 7816-4 short APDUs)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum

JPKI_AID = bytes.fromhex("D392F000260100000001")
MY_NUMBER_CARD_TOKEN = "JPKIAPICCTOKEN2"
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
MAX_SHORT_LE = 256


class Ef(IntEnum):
    """Elementary files of the JPKI AP."""

    SIGN_CERT = 0x0001
    SIGN_CA_CERT = 0x0002
    TOKEN = 0x0006
    AUTH_CERT = 0x000A
    AUTH_CA_CERT = 0x000B
    AUTH_KEY = 0x0017
    AUTH_PIN = 0x0018
    SIGN_KEY = 0x001A
    SIGN_PIN = 0x001B


class Sw(IntEnum):
    """Status words the gateway and the virtual card use."""

    OK = 0x9000
    END_OF_FILE = 0x6282
    VERIFICATION_FAILED = 0x6300
    WRONG_LENGTH = 0x6700
    SECURITY_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED = 0x6986
    WRONG_DATA = 0x6A80
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


class ApduFormatError(ValueError):
    """Bytes that are not a well-formed short command or response APDU."""


@dataclass(frozen=True)
class CommandApdu:
    """A short command APDU; ``le`` None means no Le field, 256 is encoded as 00."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ApduFormatError(f"{name} out of range")
        if len(self.data) > 255:
            raise ApduFormatError("data longer than 255 bytes needs an extended APDU")
        if self.le is not None and not 1 <= self.le <= MAX_SHORT_LE:
            raise ApduFormatError("Le must be 1..256")

    def to_bytes(self) -> bytes:
        """Encode the APDU."""
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le % 256])
        return out

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Decode a short command APDU of any ISO case."""
        if len(raw) < 4:
            raise ApduFormatError("shorter than a header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or MAX_SHORT_LE)
        lc = body[0]
        if lc == 0:
            raise ApduFormatError("extended APDUs are not supported")
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, data=bytes(body[1 : 1 + lc]))
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, data=bytes(body[1 : 1 + lc]), le=body[1 + lc] or MAX_SHORT_LE)
        raise ApduFormatError("Lc does not match the length")

    def redacted(self) -> str:
        """Return a loggable hex form: the data of VERIFY (a PIN) is never shown."""
        header = self.to_bytes()[:4].hex(" ").upper()
        if self.ins == 0x20 and self.data:
            return f"{header} <{len(self.data)} bytes redacted>"
        return self.to_bytes().hex(" ").upper()


@dataclass(frozen=True)
class ResponseApdu:
    """A response APDU: data and the status word."""

    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        """Split a response into data and status word."""
        if len(raw) < 2:
            raise ApduFormatError("response shorter than a status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def to_bytes(self) -> bytes:
        """Encode the response."""
        return self.data + self.sw.to_bytes(2, "big")

    @property
    def ok(self) -> bool:
        """Return whether the status word is 9000."""
        return self.sw == Sw.OK

    @property
    def sw_hex(self) -> str:
        """Return the status word as four hex digits."""
        return f"{self.sw:04X}"


def select_application(aid: bytes = JPKI_AID) -> CommandApdu:
    """SELECT by DF name (AID), no FCI returned."""
    return CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid)


def select_ef(ef: int) -> CommandApdu:
    """SELECT an EF of the current application by file id, no FCI returned."""
    return CommandApdu(0x00, 0xA4, 0x02, 0x0C, ef.to_bytes(2, "big"))


def read_binary(offset: int, length: int) -> CommandApdu:
    """READ BINARY ``length`` (1..256) bytes from ``offset`` (0..0x7FFF) of the selected EF."""
    if not 0 <= offset <= 0x7FFF:
        raise ApduFormatError("offset out of range")
    return CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, le=length)


def verify(pin: bytes | None) -> CommandApdu:
    """VERIFY the selected PIN EF; without data it only asks for the tries left."""
    return CommandApdu(0x00, 0x20, 0x00, 0x80, pin or b"")


def compute_signature(digest_info: bytes) -> CommandApdu:
    """COMPUTE DIGITAL SIGNATURE with the selected key over a DER DigestInfo (the card pads)."""
    return CommandApdu(0x80, 0x2A, 0x00, 0x80, digest_info, le=MAX_SHORT_LE)


def sha256_digest_info(message: bytes) -> bytes:
    """Return DER ``DigestInfo(SHA-256(message))`` (51 bytes)."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


def parse_token(data: bytes) -> str:
    """Decode the JPKI token EF (ASCII padded with spaces or NULs)."""
    return data.decode("ascii", errors="replace").rstrip(" \x00")


def certificate_length(header: bytes) -> int:
    """Return the total DER length of a certificate from its first 4 bytes (``30 82 LL LL``)."""
    if len(header) < 4 or header[0] != 0x30:
        raise ApduFormatError("not a DER SEQUENCE")
    if header[1] == 0x82:
        return int.from_bytes(header[2:4], "big") + 4
    if header[1] == 0x81:
        return header[2] + 3
    if header[1] < 0x80:
        return header[1] + 2
    raise ApduFormatError("unsupported DER length form")


def tries_left_from_sw(sw: int) -> int | None:
    """Return the tries left a VERIFY status word reports (``63Cx``); 0 for the blocked forms; None otherwise."""
    if sw & 0xFFF0 == 0x63C0:
        return sw & 0x0F
    if sw in (Sw.AUTH_METHOD_BLOCKED, Sw.REFERENCE_DATA_NOT_USABLE):
        return 0
    return None
