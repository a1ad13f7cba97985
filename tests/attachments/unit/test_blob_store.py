"""The filesystem blob store: content-addressed, atomic, nothing left behind on abort."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from attachments.adapters.blobstore import BlobNotFoundError, FilesystemBlobStore

pytestmark = pytest.mark.unit


def files_under(root: Path) -> list[Path]:
    """Every file below ``root``."""
    return [p for p in root.rglob("*") if p.is_file()]


async def test_a_blob_is_stored_under_its_sha256_and_read_back_in_chunks(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    writer = store.writer()
    for part in (b"%PDF-1.7\n", b"x" * 100_000, b"%%EOF\n"):
        await writer.write(part)
    stored = await writer.commit()
    data = b"%PDF-1.7\n" + b"x" * 100_000 + b"%%EOF\n"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size_bytes == len(data)
    assert store.path_of(stored.sha256).read_bytes() == data
    assert await store.exists(stored.sha256)
    assert b"".join([c async for c in store.chunks(stored.sha256, 4096)]) == data
    assert list(store.tmp_dir.iterdir()) == []


async def test_the_same_content_twice_is_one_blob(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    digests = []
    for _ in range(2):
        writer = store.writer()
        await writer.write(b"same bytes")
        digests.append((await writer.commit()).sha256)
    assert digests[0] == digests[1]
    assert len(files_under(store.blobs_dir)) == 1
    assert list(store.tmp_dir.iterdir()) == []


async def test_an_aborted_blob_leaves_no_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    writer = store.writer()
    await writer.write(b"partial")
    assert len(list(store.tmp_dir.iterdir())) == 1
    await writer.abort()
    assert files_under(tmp_path) == []


async def test_a_missing_blob_is_reported_and_a_bad_digest_refused(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    with pytest.raises(BlobNotFoundError):
        async with store.local_file("0" * 64):
            pass
    with pytest.raises(ValueError, match="sha256"):
        store.path_of("../../etc/passwd")
