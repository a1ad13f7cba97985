"""Effective resolution of every image placed in a PDF, from the content streams' transformation matrices.

The current transformation matrix (CTM) is tracked through ``q``/``Q``/``cm``, into form XObjects (their
``/Matrix``) and at inline images; the page's ``/UserUnit`` scales the default user space. For an image the unit
square maps to the vectors (a, b) and (c, d), so its placed width is √(a²+b²) and height √(c²+d²) points.
pikepdf's ``get_objects_with_ctm`` is not used (it composes matrices in the wrong order, see docs/pdf.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import pikepdf

from attachments.checks.models import ImagePlacement

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_OPERATORS = "q Q cm Do BI ID EI"


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """The product m × n in PDF's row-vector convention (apply m first, then n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def placement_size(ctm: Matrix) -> tuple[float, float]:
    """Placed width and height in points of an image drawn with ``ctm``."""
    a, b, c, d, _, _ = ctm
    return math.hypot(a, b), math.hypot(c, d)


class ResolutionBudgetExceeded(Exception):
    """The document has more content-stream instructions than the policy allows examining."""


@dataclass
class ResolutionWalker:
    """Walks pages and yields image placements; bounded by an instruction budget and form depth."""

    max_instructions: int = 2_000_000
    max_form_depth: int = 16
    instructions: int = 0
    notes: list[str] = field(default_factory=list)

    def page_placements(self, page: pikepdf.Page, page_number: int) -> Iterator[ImagePlacement]:
        """Image placements of one page, in drawing order; parsing the page is also its syntax check.

        Every page is parsed once (qpdf's tokenizer reads the whole content stream and keeps only the operators
        that place images), so an unparseable page raises ``pikepdf.PdfError`` here.
        """
        obj = page.obj
        unit = _number(obj.get("/UserUnit"), 1.0)
        if unit <= 0:
            unit = 1.0
        resources = obj.get("/Resources")
        ctm: Matrix = (unit, 0.0, 0.0, unit, 0.0, 0.0)
        yield from self._run(page, resources, ctm, page_number, depth=0, forms=frozenset(), in_form=False)

    def _run(
        self,
        target: pikepdf.Page | pikepdf.Object,
        resources: pikepdf.Object | None,
        ctm: Matrix,
        page_number: int,
        *,
        depth: int,
        forms: frozenset[tuple[int, int]],
        in_form: bool,
    ) -> Iterator[ImagePlacement]:
        try:
            instructions = pikepdf.parse_content_stream(target, _OPERATORS)
        except (pikepdf.PdfError, ValueError, TypeError) as exc:
            if depth == 0:
                raise pikepdf.PdfError(f"page {page_number}: {exc}") from exc
            self.notes.append(f"page {page_number}: form content not parsed ({exc})")
            return
        stack: list[Matrix] = []
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        for instruction in instructions:
            self.instructions += 1
            if self.instructions > self.max_instructions:
                raise ResolutionBudgetExceeded
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                placed = self._inline(instruction, ctm, page_number, in_form)
                if placed:
                    yield placed
                continue
            op = str(instruction.operator)
            if op == "q":
                stack.append(ctm)
            elif op == "Q":
                if stack:
                    ctm = stack.pop()
            elif op == "cm":
                m = _matrix(instruction.operands)
                if m is not None:
                    ctm = multiply(m, ctm)
            elif op == "Do" and instruction.operands and isinstance(xobjects, pikepdf.Dictionary):
                name = str(instruction.operands[0])
                xobj = xobjects.get(name)
                if not isinstance(xobj, pikepdf.Stream):
                    continue
                subtype = xobj.get("/Subtype")
                if subtype == pikepdf.Name.Image:
                    placed = _placement(
                        name.lstrip("/"), xobj.get("/Width"), xobj.get("/Height"), ctm, page_number, in_form
                    )
                    if placed:
                        yield placed
                elif subtype == pikepdf.Name.Form:
                    key = xobj.objgen
                    if key in forms or depth >= self.max_form_depth:
                        self.notes.append(f"page {page_number}: form {name} nested too deeply or recursive")
                        continue
                    form_matrix = _matrix(xobj.get("/Matrix")) or IDENTITY
                    form_resources = xobj.get("/Resources")
                    if not isinstance(form_resources, pikepdf.Dictionary):
                        form_resources = resources
                    yield from self._run(
                        xobj,
                        form_resources,
                        multiply(form_matrix, ctm),
                        page_number,
                        depth=depth + 1,
                        forms=forms | {key},
                        in_form=True,
                    )

    def _inline(
        self, instruction: pikepdf.ContentStreamInlineImage, ctm: Matrix, page_number: int, in_form: bool
    ) -> ImagePlacement | None:
        try:
            image = instruction.iimage
            return _placement("inline", image.width, image.height, ctm, page_number, in_form)
        except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError) as exc:
            self.notes.append(f"page {page_number}: inline image not understood ({exc})")
            return None


def _placement(
    name: str, width: object, height: object, ctm: Matrix, page_number: int, in_form: bool
) -> ImagePlacement | None:
    w = int(_number(width, 0))
    h = int(_number(height, 0))
    placed_w, placed_h = placement_size(ctm)
    if w <= 0 or h <= 0 or placed_w <= 1e-9 or placed_h <= 1e-9:
        return None
    return ImagePlacement(
        page=page_number,
        name=name,
        width_px=w,
        height_px=h,
        placed_width_pt=round(placed_w, 3),
        placed_height_pt=round(placed_h, 3),
        dpi_x=round(w * 72.0 / placed_w, 2),
        dpi_y=round(h * 72.0 / placed_h, 2),
        in_form=in_form,
    )


def _number(value: object, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _matrix(value: object) -> Matrix | None:
    if value is None:
        return None
    try:
        items = [float(v) for v in value]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    if len(items) != 6 or not all(math.isfinite(v) for v in items):
        return None
    return (items[0], items[1], items[2], items[3], items[4], items[5])
