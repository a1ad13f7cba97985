"""A recording HTTP peer that stands in for the services behind the gateway in the gateway's own tests.

It answers every request with JSON naming the port it listens on, the path, the query and the headers it got, and
the number of body bytes it read, so a test can see exactly what the gateway passed on.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Iterable


class RecordingUpstream:
    """HTTP/1.1 servers on the given ports, in a thread of their own."""

    def __init__(self, ports: Iterable[int], extra_headers: dict[str, str] | None = None) -> None:
        self.ports = list(ports)
        self.extra_headers = extra_headers or {}
        self.requests: list[dict[str, object]] = []
        self._loop = asyncio.new_event_loop()
        self._servers: dict[int, asyncio.AbstractServer] = {}
        self._writers: dict[int, set[asyncio.StreamWriter]] = {}
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        """Listen on every port."""
        self._thread.start()
        for port in self.ports:
            future = asyncio.run_coroutine_threadsafe(
                asyncio.start_server(functools.partial(self._serve, port=port), "127.0.0.1", port), self._loop
            )
            self._servers[port] = future.result(timeout=10)

    def stop(self) -> None:
        """Close every server and the loop."""

        for port in list(self._servers):
            self.shut(port)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def shut(self, port: int) -> None:
        """Stop listening on ``port`` and drop its open connections, as a process that died would."""

        async def close() -> None:
            server = self._servers.pop(port)
            server.close()
            for writer in self._writers.pop(port, set()):
                writer.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
        self._writers.setdefault(port, set()).add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                received = 0
                if "content-length" in headers:
                    remaining = int(headers["content-length"])
                    while remaining:
                        chunk = await reader.read(min(remaining, 1 << 16))
                        if not chunk:
                            return
                        received += len(chunk)
                        remaining -= len(chunk)
                elif headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                        if size == 0:
                            await reader.readuntil(b"\r\n")
                            break
                        received += len(await reader.readexactly(size + 2)) - 2
                path, _, query = target.partition("?")
                record = {
                    "port": port,
                    "method": method,
                    "path": path,
                    "query": query,
                    "headers": headers,
                    "body_bytes": received,
                }
                self.requests.append(record)
                body = json.dumps(record).encode()
                extra = "".join(f"{k}: {v}\r\n" for k, v in self.extra_headers.items())
                writer.write(
                    (
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n{extra}\r\n"
                    ).encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self._writers.get(port, set()).discard(writer)
            writer.close()
