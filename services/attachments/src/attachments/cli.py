"""``attachments-check FILE [--kind pdf|photo] [--json] [--lenient]``: check one file the way the service does.

The check runs sandboxed (a limited child process). Exit status: 0 accepted, 1 rejected, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from attachments.checks import (
    CheckPolicy,
    DamagedFileHandling,
    Finding,
    Kind,
    PdfPolicy,
    SandboxLimits,
    Verdict,
    check_file_sandboxed,
)

EXIT_ACCEPTED = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attachments-check",
        description="Check a PDF or face photo as the Residence Application Online System does.",
    )
    parser.add_argument("file", type=Path, help="the file to check")
    parser.add_argument("--kind", choices=["pdf", "photo"], help="default: from the file name (.jpg → photo)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument("--lenient", action="store_true", help="accept repairable damage with a warning")
    parser.add_argument(
        "--timeout", type=float, default=SandboxLimits().wall_seconds, help="wall-clock seconds"
    )
    return parser


def guess_kind(path: Path) -> Kind:
    """The check to run for ``path`` when --kind is not given."""
    return "photo" if path.suffix.lower() in _PHOTO_SUFFIXES else "pdf"


def render_text(verdict: Verdict) -> str:
    """A human-readable verdict in English and Japanese."""
    lines = [
        "ACCEPTED / 受付可" if verdict.accepted else "REJECTED / 受付不可",
    ]

    def block(title: str, findings: list[Finding]) -> None:
        if findings:
            lines.append(title)
            for finding in findings:
                lines.append(f"  [{finding.code.value}]")
                lines.append(f"    en: {finding.message_en}")
                lines.append(f"    ja: {finding.message_ja}")

    block("Reasons / 理由:", verdict.reasons)
    block("Warnings / 注意:", verdict.warnings)
    facts = verdict.facts
    if facts is not None and facts.kind == "pdf":
        lines.append(
            f"Facts: {facts.size_bytes} bytes, PDF {facts.header_version}, pages {facts.page_count}, "
            f"images {facts.image_count}, min dpi {facts.min_dpi}"
        )
    elif facts is not None:
        lines.append(
            f"Facts: {facts.size_bytes} bytes, {facts.format}, {facts.oriented_width_px}×{facts.oriented_height_px} px"
        )
    if verdict.elapsed_ms is not None:
        lines.append(f"Checked in {verdict.elapsed_ms:.0f} ms")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_ACCEPTED
    path: Path = args.file
    if not path.is_file():
        print(f"attachments-check: not a file: {path}", file=sys.stderr)
        return EXIT_USAGE
    kind: Kind = args.kind or guess_kind(path)
    policy = CheckPolicy(
        pdf=PdfPolicy(damaged=DamagedFileHandling.LENIENT if args.lenient else DamagedFileHandling.STRICT)
    )
    limits = SandboxLimits(wall_seconds=args.timeout)
    verdict = check_file_sandboxed(path, kind, policy, limits)
    print(verdict.model_dump_json(indent=2) if args.json else render_text(verdict))
    return EXIT_ACCEPTED if verdict.accepted else EXIT_REJECTED


if __name__ == "__main__":
    sys.exit(main())
