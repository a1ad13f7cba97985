"""The blob store: content-addressed (sha256), written atomically (temp file, fsync, rename).

``BlobStore`` is the port; ``FilesystemBlobStore`` the default adapter (``ATTACHMENTS_BLOB_DIR``). An S3-compatible
store would implement the same Protocol (multipart upload to a temporary key, then copy to the digest's key).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredBlob:
    """A blob that is safely stored: its digest and size."""

    sha256: str
    size_bytes: int


class BlobWriter(Protocol):
    """One blob being written; ``commit`` makes it visible under its digest, ``abort`` leaves nothing behind."""

    @property
    def size_bytes(self) -> int:
        """Bytes written so far."""
        ...

    async def write(self, chunk: bytes) -> None:
        """Append a chunk."""
        ...

    async def commit(self) -> StoredBlob:
        """Make the blob durable and visible under its sha256."""
        ...

    async def abort(self) -> None:
        """Discard what was written."""
        ...


class BlobStore(Protocol):
    """Where attachment bodies live; events and rows carry only the digest."""

    def writer(self) -> BlobWriter:
        """Start writing a new blob."""
        ...

    async def exists(self, sha256: str) -> bool:
        """Whether a blob with this digest is stored."""
        ...

    def local_file(self, sha256: str) -> AbstractAsyncContextManager[Path]:
        """A local file with the blob's content for as long as the context lasts (the checks need a path)."""
        ...

    def chunks(self, sha256: str, chunk_bytes: int = 64 * 1024) -> AsyncIterator[bytes]:
        """The blob's content, chunk by chunk."""
        ...

    async def delete(self, sha256: str) -> None:
        """Release a blob no record points at any more (nothing happens when it is already gone)."""
        ...


class BlobNotFoundError(LookupError):
    """No blob is stored under the digest."""


class _FilesystemBlobWriter:
    def __init__(self, store: FilesystemBlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=store.tmp_dir)
        self._path = Path(name)
        self._file: IO[bytes] | None = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._size = 0

    @property
    def size_bytes(self) -> int:
        return self._size

    async def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise RuntimeError("the blob writer is closed")
        self._file.write(
            chunk
        )  # to the page cache: microseconds for a chunk; fsync happens once, off the loop
        self._hash.update(chunk)
        self._size += len(chunk)

    async def commit(self) -> StoredBlob:
        if self._file is None:
            raise RuntimeError("the blob writer is closed")
        file, self._file = self._file, None
        digest = self._hash.hexdigest()
        try:
            await asyncio.to_thread(self._store.install, file, self._path, digest)
        except BaseException:
            self._path.unlink(missing_ok=True)
            raise
        return StoredBlob(sha256=digest, size_bytes=self._size)

    async def abort(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        self._path.unlink(missing_ok=True)


class FilesystemBlobStore:
    """Blobs as files ``<root>/sha256/<ab>/<digest>``; temporary files in ``<root>/tmp`` on the same filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.blobs_dir = root / "sha256"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.blobs_dir.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        """Where the blob with this digest lives."""
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.blobs_dir / sha256[:2] / sha256

    def writer(self) -> BlobWriter:
        """Start writing a new blob into a temporary file."""
        return _FilesystemBlobWriter(self)

    def install(self, file: IO[bytes], temp: Path, sha256: str) -> None:
        """Flush and fsync the temporary file, then rename it to its digest (blocking: call from a thread)."""
        try:
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()
        target = self.path_of(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # same content already stored: content addressing makes this a no-op
            temp.unlink(missing_ok=True)
            return
        os.chmod(temp, 0o440)
        os.replace(temp, target)
        _fsync_dir(target.parent)

    async def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        return self.path_of(sha256).is_file()

    @asynccontextmanager
    async def local_file(self, sha256: str) -> AsyncIterator[Path]:
        """The blob's own file (it is never modified in place)."""
        path = self.path_of(sha256)
        if not path.is_file():
            raise BlobNotFoundError(sha256)
        yield path

    async def delete(self, sha256: str) -> None:
        """Release a blob no record points at any more (nothing happens when it is already gone)."""
        path = self.path_of(sha256)
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)

    async def chunks(self, sha256: str, chunk_bytes: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Read the blob chunk by chunk."""
        path = self.path_of(sha256)
        if not path.is_file():
            raise BlobNotFoundError(sha256)
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, chunk_bytes):
                yield chunk


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
