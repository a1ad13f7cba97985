"""Benchmark of the attachment PDF check: the full sandboxed check against a bare pikepdf baseline.

Generates PDFs of about 1, 5 and 10 MB (text-heavy with many pages, and scanned images), plus generated A4 scans
(one page at 300 dpi in colour, ten pages at 600 dpi in grey), runs the full sandboxed check (a fresh child per
file, and a pool of pre-started workers) N times each, and, as the baseline in the same run, pikepdf ``open`` +
``check_pdf_syntax()`` in process on the same files. The three are measured in turn, run after run, so a change
in the machine's load falls on all of them alike. Prints a table and writes ``bench/out/attachments_check.json``
(median and spread per file and per MB, ratio to the baseline, milliseconds above it). Benchmarks never assert
timings.

    python bench/attachments_check.py            # 1, 5, 10 MB, 7 runs
    python bench/attachments_check.py --quick    # smoke: 1 MB, 2 runs
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Dictionary, Name
from PIL import Image

from attachments.checks import CheckPolicy, SandboxPool, check_file_sandboxed
from common import raise_on_termination

MB = 1024 * 1024
SETTLE_S = 1.0
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
OUT = Path(__file__).resolve().parent / "out" / "attachments_check.json"
WORDS = [
    "residence",
    "application",
    "certificate",
    "employment",
    "income",
    "tax",
    "period",
    "applicant",
    "address",
    "status",
]


def text_pdf(target_bytes: int, path: Path) -> int:
    """Many pages of text until the file reaches about ``target_bytes``; returns the page count."""
    rng = random.Random(1)
    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    written = 0
    pages = 0
    while written < target_bytes:
        lines = []
        for row in range(130):  # a dense page: about 13 KB compressed, so 10 MB is about 800 pages
            words = " ".join(
                rng.choice(WORDS) + "".join(rng.choices(ALPHABET, k=rng.randrange(3, 9))) for _ in range(12)
            )
            lines.append(f"BT /F1 5 Tf 20 {830 - row * 6.3:.1f} Td ({words}) Tj ET")
        content = "\n".join(lines).encode()
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.Resources = Dictionary(Font=Dictionary(F1=font))
        page.Contents = pdf.make_stream(content)
        written += len(zlib.compress(content)) + 200
        pages += 1
    pdf.save(path)
    return pages


def scanned_pdf(target_bytes: int, path: Path) -> int:
    """A4 pages each holding one 200 dpi greyscale JPEG 'scan', until about ``target_bytes``."""
    pdf = pikepdf.new()
    written = 0
    pages = 0
    last = 0
    width, height = 1654, 2339  # A4 at 200 dpi
    while written + last < target_bytes:
        noise = Image.effect_noise((width, height), 24 + pages % 5).convert("L")
        buf = io.BytesIO()
        noise.save(buf, "JPEG", quality=35)
        data = buf.getvalue()
        image = pikepdf.Stream(pdf, data)
        image.Type, image.Subtype = Name.XObject, Name.Image
        image.Width, image.Height = width, height
        image.ColorSpace, image.BitsPerComponent, image.Filter = Name.DeviceGray, 8, Name.DCTDecode
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.Resources = Dictionary(XObject=Dictionary(Im0=image))
        page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
        written += len(data)
        last = len(data)
        pages += 1
    pdf.save(path)
    return pages


def a4_scan_pdf(path: Path, dpi: int, mode: str, pages: int, quality: int, grain: int = 4) -> int:
    """An A4 page 'scanned' at ``dpi`` (noise, so JPEG cannot shrink it much), the same JPEG on every page."""
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    noise = Image.effect_noise((width // grain, height // grain), 30).resize((width, height)).convert(mode)
    buf = io.BytesIO()
    noise.save(buf, "JPEG", quality=quality)
    data = buf.getvalue()
    pdf = pikepdf.new()
    page_w, page_h = 210 / 25.4 * 72, 297 / 25.4 * 72
    for _ in range(pages):
        image = pikepdf.Stream(pdf, data)
        image.Type, image.Subtype = Name.XObject, Name.Image
        image.Width, image.Height, image.BitsPerComponent = width, height, 8
        image.ColorSpace = Name.DeviceRGB if mode == "RGB" else Name.DeviceGray
        image.Filter = Name.DCTDecode
        pdf.add_blank_page(page_size=(page_w, page_h))
        page = pdf.pages[-1]
        page.Resources = Dictionary(XObject=Dictionary(Im0=image))
        page.Contents = pdf.make_stream(f"q {page_w:.2f} 0 0 {page_h:.2f} 0 0 cm /Im0 Do Q".encode())
    pdf.save(path)
    return pages


def baseline(path: Path) -> None:
    """Bare pikepdf: open and check_pdf_syntax(), in process."""
    with pikepdf.open(path) as pdf:
        pdf.check_pdf_syntax()


def measure(funcs: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Wall-clock seconds of ``runs`` calls of each function, taken in turn (one of each per round)."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(runs):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
            time.sleep(SETTLE_S)  # let the pool's replacement worker finish starting, untimed
    return times


def summary(times: list[float], size_mb: float) -> dict[str, float]:
    """Median and spread of ``times``, also per MB."""
    median = statistics.median(times)
    return {
        "median_s": round(median, 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "stdev_s": round(statistics.stdev(times), 4) if len(times) > 1 else 0.0,
        "median_s_per_mb": round(median / size_mb, 4),
    }


def main() -> None:
    """Generate, measure, print and write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 MB files and 2 runs (smoke)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=float, nargs="*", default=[1, 5, 10], help="target sizes in MB")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    raise_on_termination()  # SIGTERM ends the sandbox pool as Ctrl-C does
    sizes = [1.0] if args.quick else args.sizes
    runs = 2 if args.quick else args.runs
    policy = CheckPolicy()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-attachments-") as tmp, SandboxPool(size=1) as pool:
        jobs: list[tuple[str, Path, Callable[[Path], int]]] = []
        for size in sizes:
            target = int(size * MB * 0.97)
            jobs.append(("text", Path(tmp) / f"text-{size:g}mb.pdf", partial(text_pdf, target)))
            jobs.append(("scanned", Path(tmp) / f"scanned-{size:g}mb.pdf", partial(scanned_pdf, target)))
        if not args.quick:
            jobs.append(
                (
                    "scan",
                    Path(tmp) / "scan-a4-300dpi-colour.pdf",
                    partial(a4_scan_pdf, dpi=300, mode="RGB", pages=1, quality=50),
                )
            )
            jobs.append(
                (
                    "scan",
                    Path(tmp) / "scan-a4-600dpi-grey-10p.pdf",
                    partial(a4_scan_pdf, dpi=600, mode="L", pages=10, quality=20, grain=32),
                )
            )
        for kind, path, make in jobs:
            pages = make(path)
            size_mb = path.stat().st_size / MB
            verdict = check_file_sandboxed(path, "pdf", policy)
            baseline(path)  # warm the page cache and imports
            timings = measure(
                {
                    "sandboxed_fresh_child": partial(check_file_sandboxed, path, "pdf", policy),
                    "sandboxed_pool": partial(pool.check, path, "pdf", policy),
                    "baseline_pikepdf_open_check_pdf_syntax": partial(baseline, path),
                },
                runs,
            )
            stats = {name: summary(times, size_mb) for name, times in timings.items()}
            base = stats["baseline_pikepdf_open_check_pdf_syntax"]["median_s"]
            ratios: dict[str, float | None] = {
                name: round(stat["median_s"] / base, 2) if base else None
                for name, stat in stats.items()
                if not name.startswith("baseline")
            }
            above = {
                name: round((stat["median_s"] - base) * 1000, 1)
                for name, stat in stats.items()
                if not name.startswith("baseline")
            }
            row: dict[str, Any] = {
                "file": path.name,
                "kind": kind,
                "size_mb": round(size_mb, 2),
                "pages": pages,
                "runs": runs,
                "accepted": verdict.accepted,
                "codes": verdict.codes,
                "peak_memory_mb": verdict.peak_memory_mb,
                "stats": stats,
                "ratio_to_baseline": ratios,
                "ms_above_baseline": above,
            }
            results.append(row)
            print(
                f"{row['file']:<28} {size_mb:6.2f} MB {pages:5d} p  "
                f"fresh {stats['sandboxed_fresh_child']['median_s']:.3f} s  "
                f"pool {stats['sandboxed_pool']['median_s']:.3f} s  "
                f"baseline {base:.3f} s  "
                f"ratio {ratios['sandboxed_fresh_child']}× / "
                f"{ratios['sandboxed_pool']}×  pool +{above['sandboxed_pool']} ms  {row['codes']}",
                flush=True,
            )
    report = {
        "benchmark": "attachments_check",
        "quick": args.quick,
        "python": platform.python_version(),
        "pikepdf": pikepdf.__version__,
        "libqpdf": pikepdf.__libqpdf_version__,
        "cpus": os.cpu_count(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
