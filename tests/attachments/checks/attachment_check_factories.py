"""Generators for every file the attachment-check tests use (nothing is checked in as a binary fixture)."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image, ImageDraw

A4 = (595.0, 842.0)
A4_MM = (210.0, 297.0)


def scan_image(dpi: int, mode: str) -> Image.Image:
    """An A4 page 'scanned' at ``dpi`` in ``mode`` ("L" or "RGB"): lines of dark text-like strokes on paper."""
    width, height = round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)
    small = Image.new("L", (max(width // 6, 1), max(height // 6, 1)), 250)
    draw = ImageDraw.Draw(small)
    step = max(small.height // 60, 3)
    for row, y in enumerate(range(step * 3, small.height - step * 3, step)):
        x = step * 3
        while x < small.width - step * 3:
            length = (row * 7 + x * 13) % (step * 6) + step
            draw.rectangle((x, y, min(x + length, small.width - step * 3), y + step // 2), fill=40)
            x += length + step
    page = small.resize((width, height), Image.Resampling.NEAREST)
    if mode == "RGB":
        return Image.merge("RGB", (page, page, page.point(lambda v: min(255, v + 25))))
    return page


def scan_stream_data(dpi: int, mode: str, codec: str) -> bytes:
    """The encoded image data of one scanned page: JPEG (DCTDecode) or zlib (FlateDecode)."""
    image = scan_image(dpi, mode)
    if codec == "jpeg":
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=60 if dpi < 400 else 30 if mode == "L" else 15)
        return buf.getvalue()
    return zlib.compress(image.tobytes(), 1)


def scan_pdf(dpi: int, mode: str, codec: str, pages: int, data: bytes | None = None) -> bytes:
    """A PDF of ``pages`` A4 pages, each its own image object holding the same scanned page, placed full-page."""
    data = data if data is not None else scan_stream_data(dpi, mode, codec)
    width, height = round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)
    page_w, page_h = A4_MM[0] / 25.4 * 72, A4_MM[1] / 25.4 * 72
    pdf = pikepdf.new()
    for _ in range(pages):
        image = pikepdf.Stream(pdf, data)
        image.Type, image.Subtype = Name.XObject, Name.Image
        image.Width, image.Height, image.BitsPerComponent = width, height, 8
        image.ColorSpace = Name.DeviceRGB if mode == "RGB" else Name.DeviceGray
        image.Filter = Name.DCTDecode if codec == "jpeg" else Name.FlateDecode
        pdf.add_blank_page(page_size=(page_w, page_h))
        page = pdf.pages[-1]
        page.Resources = Dictionary(XObject=Dictionary(Im0=image))
        page.Contents = pdf.make_stream(f"q {page_w:.2f} 0 0 {page_h:.2f} 0 0 cm /Im0 Do Q".encode())
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


class Files:
    """Writes generated PDFs and JPEGs into a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    def write(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path

    # -- PDFs -------------------------------------------------------------------------------------------------------

    @staticmethod
    def text_pdf(pages: int = 2) -> pikepdf.Pdf:
        pdf = pikepdf.new()
        font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
        for number in range(pages):
            pdf.add_blank_page(page_size=A4)
            page = pdf.pages[-1]
            page.Resources = Dictionary(Font=Dictionary(F1=font))
            page.Contents = pdf.make_stream(f"BT /F1 12 Tf 72 720 Td (Page {number + 1}) Tj ET".encode())
        return pdf

    def save(self, pdf: pikepdf.Pdf, name: str, *, plain: bool = False, **kwargs: Any) -> Path:
        path = self.root / name
        if plain:
            kwargs.setdefault("compress_streams", False)
            kwargs.setdefault("object_stream_mode", pikepdf.ObjectStreamMode.disable)
        pdf.save(path, **kwargs)
        return path

    def plain_bytes(self, pdf: pikepdf.Pdf) -> bytes:
        buf = io.BytesIO()
        pdf.save(buf, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
        return buf.getvalue()

    @staticmethod
    def gray_image(pdf: pikepdf.Pdf, width: int, height: int) -> pikepdf.Stream:
        data = bytes((x * 7 + y * 3) % 256 for y in range(height) for x in range(width))
        stream = pikepdf.Stream(pdf, zlib.compress(data))
        stream.Type = Name.XObject
        stream.Subtype = Name.Image
        stream.Width = width
        stream.Height = height
        stream.ColorSpace = Name.DeviceGray
        stream.BitsPerComponent = 8
        stream.Filter = Name.FlateDecode
        return stream

    def image_pdf(
        self,
        placements: list[str],
        *,
        image_size: tuple[int, int] = (100, 100),
        user_unit: float | None = None,
        forms: dict[str, tuple[str, str]] | None = None,
    ) -> pikepdf.Pdf:
        """One page drawing /Im0 (image_size) with the given content-stream snippets; forms: name -> (matrix, content)."""
        pdf = pikepdf.new()
        pdf.add_blank_page(page_size=A4)
        page = pdf.pages[0]
        image = self.gray_image(pdf, *image_size)
        xobjects = Dictionary(Im0=image)
        for name, (matrix, content) in (forms or {}).items():
            form = pdf.make_stream(content.encode())
            form.Type = Name.XObject
            form.Subtype = Name.Form
            form.BBox = Array([0, 0, 1000, 1000])
            form.Matrix = Array([float(v) for v in matrix.split()])
            form.Resources = Dictionary(XObject=Dictionary(Im0=image))
            xobjects[Name("/" + name)] = form
        page.Resources = Dictionary(XObject=xobjects)
        page.Contents = pdf.make_stream("\n".join(placements).encode())
        if user_unit is not None:
            page.obj.UserUnit = user_unit
        return pdf

    @staticmethod
    def inline_image(width: int, height: int) -> str:
        data = bytes((x + y) % 256 for y in range(height) for x in range(width))
        return f"BI /W {width} /H {height} /BPC 8 /CS /G /F /AHx ID {data.hex()}> EI"

    # -- JPEGs ------------------------------------------------------------------------------------------------------

    @staticmethod
    def jpeg(
        size: tuple[int, int] = (300, 400),
        *,
        orientation: int | None = None,
        thumbnail: bool = False,
        **kw: Any,
    ) -> bytes:
        image = Image.new("RGB", size, (180, 160, 150))
        for x in range(0, size[0], 7):
            image.putpixel((x, x * size[1] // max(size[0], 1) % size[1]), (10, 20, 30))
        exif = Image.Exif()
        if orientation is not None:
            exif[0x0112] = orientation
        buf = io.BytesIO()
        if thumbnail:
            thumb = io.BytesIO()
            Image.new("RGB", (40, 30), (1, 2, 3)).save(thumb, "JPEG")
            # an APP segment holding a whole JPEG (with its own FFD9) must be skipped, not taken as the end
            app = b"THUMB\x00" + thumb.getvalue()
            kw["extra"] = app
        extra = kw.pop("extra", None)
        image.save(buf, "JPEG", quality=80, exif=exif.tobytes() if orientation else b"", **kw)
        data = buf.getvalue()
        if extra:
            segment = b"\xff\xe5" + (len(extra) + 2).to_bytes(2, "big") + extra
            data = data[:2] + segment + data[2:]
        return data

    @staticmethod
    def png(size: tuple[int, int] = (300, 400)) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", size, (1, 2, 3)).save(buf, "PNG")
        return buf.getvalue()

    @staticmethod
    def with_sof_size(jpeg: bytes, width: int, height: int) -> bytes:
        """Rewrite the frame header's size (a tiny file claiming a huge image)."""
        match = re.search(rb"\xff[\xc0\xc2]", jpeg)
        assert match
        i = match.start() + 4  # marker(2) + length(2), then precision(1)
        return jpeg[: i + 1] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + jpeg[i + 5 :]
