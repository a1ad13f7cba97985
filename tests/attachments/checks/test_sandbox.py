"""The sandbox: checks run in limited child processes; runaway files end as check.timeout / check.memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Name

from attachments.checks import (
    CheckPolicy,
    Code,
    PdfFacts,
    PdfPolicy,
    SandboxLimits,
    SandboxPool,
    Verdict,
    check_file_sandboxed,
    check_pdf,
)
from tests.attachments.checks.attachment_check_factories import Files

pytestmark = pytest.mark.integration

UNLIMITED_QPDF = CheckPolicy(pdf=PdfPolicy(max_decoded_stream_bytes=0))


def _cpu_hog(files: Files, megabytes: int = 24) -> Path:
    """A tiny PDF whose one page holds a huge (compressible) content stream: seconds of parsing, little memory."""
    compressor = zlib.compressobj(9)
    unit = b"0 0 m\n" * 100_000
    data = b"".join(compressor.compress(unit) for _ in range(megabytes * 10 // 6)) + compressor.flush()
    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = Name.FlateDecode
    pdf.pages[0].Contents = stream
    return files.save(pdf, "cpu-hog.pdf")


def test_gives_the_same_verdict_as_the_in_process_check(files: Files) -> None:
    path = files.save(files.image_pdf(["q 144 0 0 72 0 0 cm /Im0 Do Q"], image_size=(200, 100)), "img.pdf")
    sandboxed = check_file_sandboxed(path, "pdf")
    direct = check_pdf(path)
    excluded = {"elapsed_ms", "peak_memory_mb"}
    assert sandboxed.model_dump(exclude=excluded) == direct.model_dump(exclude=excluded)
    assert sandboxed.codes == [Code.PDF_LOW_RESOLUTION]


def test_checks_photos_too(files: Files) -> None:
    verdict = check_file_sandboxed(files.write("p.jpg", files.jpeg((300, 400)) + b"PK\x03\x04"), "photo")
    assert verdict.codes == [Code.PHOTO_TRAILING_DATA]


def test_rejects_an_oversized_file_without_starting_a_child(files: Files) -> None:
    path = files.path("big.pdf")
    with path.open("wb") as handle:
        handle.truncate(11 * 1024 * 1024)
    assert check_file_sandboxed(path, "pdf").codes == [Code.PDF_TOO_LARGE]


def test_stops_a_flate_bomb_with_the_qpdf_limit(flate_bomb: Callable[..., Path]) -> None:
    verdict = check_file_sandboxed(flate_bomb(512 * 1024 * 1024), "pdf")
    assert not verdict.accepted
    assert Code.PDF_TOO_COMPLEX in verdict.codes


def test_turns_memory_exhaustion_into_check_memory(flate_bomb: Callable[..., Path]) -> None:
    limits = SandboxLimits(memory_bytes=700 * 1024 * 1024, total_rss_bytes=4096 * 1024 * 1024)
    verdict = check_file_sandboxed(flate_bomb(512 * 1024 * 1024, content=True), "pdf", UNLIMITED_QPDF, limits)
    assert not verdict.accepted
    assert Code.CHECK_MEMORY in verdict.codes
    assert verdict.reasons[0].params == {"limit_mb": 700}


def test_reports_the_peak_memory_of_a_check(files: Files) -> None:
    verdict = check_file_sandboxed(files.save(files.text_pdf(), "ok.pdf"), "pdf")
    assert verdict.accepted
    assert verdict.peak_memory_mb is not None and verdict.peak_memory_mb > 10


_HUNGRY_CHILD = (
    "import subprocess, sys; sys.stdin.buffer.read(); "
    "subprocess.run([sys.executable, '-c', "
    "'import time; hog = bytes([1]) * (400 << 20); time.sleep(30)'])"
)


def test_limits_the_memory_of_every_program_a_check_starts(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like jbig2dec under the worker: a descendant's memory counts against the check, which is killed."""
    from attachments.checks import sandbox

    monkeypatch.setattr(sandbox, "_WORKER_ARGS", ["-c", _HUNGRY_CHILD])
    limits = SandboxLimits(total_rss_bytes=200 * 1024 * 1024, wall_seconds=30)
    verdict = check_file_sandboxed(files.save(files.text_pdf(), "ok.pdf"), "pdf", limits=limits)
    assert verdict.codes == [Code.CHECK_MEMORY]
    assert verdict.reasons[0].params == {"limit_mb": 200}
    assert verdict.peak_memory_mb is not None and verdict.peak_memory_mb > 200
    assert verdict.elapsed_ms is not None and verdict.elapsed_ms < 25_000


def test_turns_cpu_exhaustion_into_check_timeout(files: Files) -> None:
    verdict = check_file_sandboxed(
        _cpu_hog(files), "pdf", limits=SandboxLimits(cpu_seconds=1, wall_seconds=60)
    )
    assert verdict.codes == [Code.CHECK_TIMEOUT]
    assert verdict.reasons[0].params == {"seconds": 1}


def test_kills_a_check_that_exceeds_the_wall_clock_limit(files: Files) -> None:
    path = _cpu_hog(files)
    verdict = check_file_sandboxed(path, "pdf", limits=SandboxLimits(wall_seconds=0.5))
    assert verdict.codes == [Code.CHECK_TIMEOUT]
    assert verdict.reasons[0].params == {"seconds": 0.5}
    assert verdict.elapsed_ms is not None
    assert verdict.elapsed_ms < 5000


def test_reports_a_crashed_worker_as_a_rejection(files: Files, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")
    verdict = check_file_sandboxed(files.save(files.text_pdf(), "ok.pdf"), "pdf")
    assert verdict.codes == [Code.CHECK_CRASHED]
    assert verdict.reasons[0].params == {"detail": "exit status 1"}


def test_a_pool_checks_one_file_per_prestarted_worker(files: Files) -> None:
    good = files.save(files.text_pdf(), "good.pdf")
    locked = files.save(files.text_pdf(), "locked.pdf", encryption=pikepdf.Encryption(user="u", owner="o"))
    with SandboxPool(size=2) as pool:
        verdicts = [pool.check(path, "pdf") for path in (good, locked, good)]
        idle = [worker.process for worker in pool._idle]
    assert [v.accepted for v in verdicts] == [True, False, True]
    assert verdicts[1].codes == [Code.PDF_ENCRYPTED_USER_PASSWORD]
    for process in idle:
        assert process.wait(timeout=5) == 0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "attachments.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_exits_0_for_an_accepted_file_and_prints_both_languages(files: Files) -> None:
    result = _cli(str(files.save(files.text_pdf(), "ok.pdf")))
    assert result.returncode == 0, result.stderr
    assert "ACCEPTED" in result.stdout
    assert "受付可" in result.stdout


def test_cli_exits_1_for_a_rejected_file_with_reasons_in_both_languages(files: Files) -> None:
    result = _cli(str(files.write("photo.jpg", files.png())))
    assert result.returncode == 1
    assert "[photo.not_jpeg]" in result.stdout
    assert "JPEG 形式ではありません" in result.stdout


def test_cli_prints_the_verdict_as_json(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf())
    path = files.write("junk.pdf", b"junk" + data)
    result = _cli(str(path), "--json")
    assert result.returncode == 1
    verdict = Verdict.model_validate(json.loads(result.stdout))
    assert verdict.codes == [Code.PDF_DAMAGED_HEADER_OFFSET]
    lenient = _cli(str(path), "--json", "--lenient", "--kind", "pdf")
    assert lenient.returncode == 0
    assert json.loads(lenient.stdout)["warnings"][0]["code"] == "pdf.damaged.header_offset"


@pytest.mark.parametrize("args", [[], ["--kind", "gif", "x.pdf"], ["/nonexistent/file.pdf"]])
def test_cli_exits_2_on_usage_errors(args: list[str]) -> None:
    assert _cli(*args).returncode == 2


def test_a_worker_checks_the_open_file_it_is_handed_and_never_opens_the_path(files: Files) -> None:
    import socket

    from attachments.checks.sandbox import CheckRequest, _Worker

    path = files.save(files.text_pdf(2), "handed.pdf")
    worker = _Worker.start()
    try:
        with path.open("rb") as handle:
            socket.send_fds(worker.channel, [b"F"], [handle.fileno()])
        request = CheckRequest(
            path="/nonexistent/elsewhere.pdf",
            kind="pdf",
            policy=CheckPolicy(),
            limits=SandboxLimits(),
            handed_file=True,
        )
        out, err = worker.process.communicate(request.model_dump_json().encode(), timeout=120)
    finally:
        worker.dispose()
    assert worker.process.returncode == 0, err
    verdict = Verdict.model_validate_json(out)
    assert verdict.accepted
    assert isinstance(verdict.facts, PdfFacts) and verdict.facts.page_count == 2
