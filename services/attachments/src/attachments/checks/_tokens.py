"""A bounded PDF token scan of object dictionaries: indirect references, and the names that mark encryption and
active content.

It reads tokens, not text (ISO 32000-1 §7.2): comments, literal strings (with nested parentheses) and hexadecimal
strings are skipped as whole tokens, so ``%12 0 R`` or ``(see 12 0 R)`` is never taken for a reference, and the scan
of an object stops at its ``stream`` or ``endobj`` keyword, so stream data is never read as syntax.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass, field

# One alternative per token kind; order matters only between alternatives that start with the same byte.
_TOKEN = re.compile(
    rb"""
    (?P<comment>%[^\r\n]*)
  | (?P<string>\()
  | (?P<hex><[0-9A-Fa-f\s]*>)
  | (?P<ref>(?<![^\s\[\]<>(){}/%])(\d{1,10})\s+(\d{1,5})\s+R(?![^\s\[\]<>(){}/%]))
  | (?P<name>/[^\s\[\]<>(){}/%]*)
  | (?P<end>\b(?:stream|endobj)\b)
    """,
    re.VERBOSE,
)
_STRING_PARTS = re.compile(rb"\\.|[()]", re.DOTALL)
# Names that mark active content (ISO 32000-1 §12.6.4.16 JavaScript actions, §12.6.4.5 launch actions, §7.7.4 the
# /JavaScript name tree) and the trailer's encryption entry (§7.6.1).
_ACTIVE = {b"/JavaScript": "JavaScript", b"/JS": "JavaScript", b"/Launch": "Launch"}
MAX_STRING_BYTES = 1 << 20


@dataclass
class TokenScan:
    """What the scan found: references with the object and key that hold them, active-content kinds, /Encrypt."""

    references: dict[tuple[int, int], tuple[int, str]] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)
    encrypt_keys: int = 0
    scanned_bytes: int = 0

    def scan(self, data: bytes | mmap.mmap, start: int, end: int, holder: int, *, stop_at_end: bool) -> int:
        """Scan ``data[start:end]`` as the object numbered ``holder``; return the offset where the scan stopped."""
        position = start
        key = ""
        while position < end:
            match = _TOKEN.search(data, position, end)
            if match is None:
                position = end
                break
            kind = match.lastgroup
            position = match.end()
            if kind == "string":
                position = _skip_string(data, match.start(), end)
            elif kind == "ref":
                objgen = (int(match.group(5)), int(match.group(6)))
                self.references.setdefault(objgen, (holder, key))
            elif kind == "name":
                token = match.group()
                active = _ACTIVE.get(token)
                if active:
                    self.active.add(active)
                elif token == b"/Encrypt":
                    self.encrypt_keys += 1
                key = token[1:].decode("latin-1")
            elif kind == "end" and stop_at_end:
                break
        self.scanned_bytes += position - start
        return position


def _skip_string(data: bytes | mmap.mmap, start: int, limit: int) -> int:
    """The offset just after the literal string that opens at ``start`` (balanced parentheses, escapes)."""
    depth = 0
    stop = min(limit, start + MAX_STRING_BYTES)
    for part in _STRING_PARTS.finditer(data, start, stop):
        token = part.group()
        if token == b"(":
            depth += 1
        elif token == b")":
            depth -= 1
            if depth == 0:
                return part.end()
    return stop
