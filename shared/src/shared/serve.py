"""Serve a service with uvicorn and the client-facing limits of :func:`shared.http.uvicorn_limits`.

``python -m shared.serve identity.main:app_from_env --host 127.0.0.1 --port 8101`` is what the local stack and the
container images run, so every service faces clients with the same header and keep-alive limits.
"""

from __future__ import annotations

import argparse

from shared.http import uvicorn_limits


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the app factory until stopped."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m shared.serve", description=__doc__)
    parser.add_argument("factory", help="module:function returning the app, e.g. identity.main:app_from_env")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=20, help="seconds to drain on stop")
    parser.add_argument(
        "--no-proxy-headers",
        action="store_true",
        help="never rewrite the client address from X-Forwarded-For (always so: identity decides whom to believe)",
    )
    args = parser.parse_args(argv)
    uvicorn.run(
        args.factory,
        factory=True,
        host=args.host,
        port=args.port,
        access_log=not args.no_access_log,
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        server_header=False,
        # uvicorn's default believes X-Forwarded-For from any loopback peer; the services decide (docs/adr/0011).
        proxy_headers=False,
        **uvicorn_limits(),
    )


if __name__ == "__main__":
    main()
