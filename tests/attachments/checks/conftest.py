"""Fixtures of the attachment-check tests; the generators live in attachment_check_factories."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Dictionary, Name

from tests.attachments.checks.attachment_check_factories import A4, Files


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """A writer of generated test files in a fresh directory."""
    return Files(tmp_path)


@pytest.fixture
def flate_bomb(tmp_path: Path) -> Callable[..., Path]:
    """A one-page PDF whose single image stream (or, with content=True, page content) inflates to ``size`` bytes."""

    def make(size: int, content: bool = False) -> Path:
        compressor = zlib.compressobj(9)
        chunk = b"\x00" * (16 * 1024 * 1024)
        parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
        parts.append(compressor.flush())
        pdf = pikepdf.new()
        pdf.add_blank_page(page_size=A4)
        stream = pikepdf.Stream(pdf, b"".join(parts))
        stream.Filter = Name.FlateDecode
        stream.Type = Name.XObject
        stream.Subtype = Name.Image
        stream.Width = 16384
        stream.Height = size // 16384
        stream.ColorSpace = Name.DeviceGray
        stream.BitsPerComponent = 8
        if content:
            pdf.pages[0].Contents = pikepdf.Stream(pdf, b"".join(parts))
            pdf.pages[0].Contents.Filter = Name.FlateDecode
        else:
            pdf.pages[0].Resources = Dictionary(XObject=Dictionary(Im0=stream))
            pdf.pages[0].Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
        path = tmp_path / f"bomb-{size}-{'content' if content else 'image'}.pdf"
        pdf.save(path)
        return path

    return make
