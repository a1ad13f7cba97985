"""shared.serve: the launcher of every service serves an app factory with the client-facing uvicorn limits."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.stack import free_port, port_open

pytestmark = pytest.mark.integration

FACTORY = """
from fastapi import FastAPI, Request
from shared.http import HttpLimits, guard


def make() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/peer")
    async def peer(request: Request) -> dict[str, str]:
        return {"peer": request.client.host if request.client else ""}

    guard(app, HttpLimits())
    return app
"""


def test_a_factory_is_served_with_the_header_limit_and_the_http_edge(tmp_path: Path) -> None:
    (tmp_path / "demo_factory.py").write_text(FACTORY)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.serve",
            "demo_factory:make",
            "--port",
            str(port),
            "--no-access-log",
            "--no-proxy-headers",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            assert proc.poll() is None and time.monotonic() < deadline, "shared.serve did not start"
            time.sleep(0.1)
        hello = httpx.get(f"http://127.0.0.1:{port}/hello")
        assert hello.json() == {"hello": "world"}
        assert hello.headers["x-content-type-options"] == "nosniff"
        assert "server" not in hello.headers
        # uvicorn never takes the client address from X-Forwarded-For, whoever the peer (docs/adr/0011).
        peer = httpx.get(f"http://127.0.0.1:{port}/peer", headers={"X-Forwarded-For": "203.0.113.9"})
        assert peer.json() == {"peer": "127.0.0.1"}
        # A request head that grows past 16 KiB without ending is refused by the h11 parser; the app never sees it.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 * 1024))
            answer = sock.recv(4096)
        assert answer.split(b"\r\n", 1)[0] in {
            b"HTTP/1.1 400 Bad Request",
            b"HTTP/1.1 431 Request Header Fields Too Large",
        }, answer[:200]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
