"""Transient failures (a dependency does not answer) versus failures caused by the work itself.

One classification for the whole system (docs/adr/0008): consumers hold a message and retry with backoff while a
dependency is away instead of dead-lettering it, and HTTP answers 503 with ``Retry-After`` instead of 500.

Transient: the database, the broker, the SMTP server or another service cannot be reached, refuses connections,
drops them, times out, is starting up or shutting down, or has no connection slot; a serialization failure or
deadlock. Everything else (validation, parse, integrity, a bug) is about the message or request itself.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

_TRANSIENT_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENETRESET,
        errno.EAGAIN,
        errno.EADDRNOTAVAIL,
    }
)

# Exception classes named by module, so that this module needs none of these libraries to be importable.
_TRANSIENT_NAMES: dict[str, frozenset[str]] = {
    "sqlalchemy.exc": frozenset(
        {"OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError", "PendingRollbackError"}
    ),
    "asyncpg.exceptions": frozenset(
        {
            "PostgresConnectionError",
            "ConnectionDoesNotExistError",
            "ConnectionFailureError",
            "ConnectionRejectionError",
            "ClientCannotConnectError",
            "CannotConnectNowError",
            "OperatorInterventionError",
            "AdminShutdownError",
            "CrashShutdownError",
            "InsufficientResourcesError",
            "TooManyConnectionsError",
            "TransactionRollbackError",
            "SerializationError",
            "DeadlockDetectedError",
            "InterfaceError",
        }
    ),
    "asyncpg.exceptions._base": frozenset({"InterfaceError", "ConnectionDoesNotExistError"}),
    "aiosmtplib.errors": frozenset(
        {
            "SMTPConnectError",
            "SMTPConnectTimeoutError",
            "SMTPConnectResponseError",
            "SMTPServerDisconnected",
            "SMTPTimeoutError",
            "SMTPReadTimeoutError",
        }
    ),
    "httpx": frozenset(
        {"TransportError", "TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"}
    ),
    "httpx._exceptions": frozenset(
        {"TransportError", "TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"}
    ),
}


class DependencyUnavailable(Exception):
    """A dependency (database, broker, SMTP server, another service) does not answer: try again later."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield the exception, its causes and contexts, wrapped DB-API originals and exception-group members."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (current.__cause__, current.__context__, getattr(current, "orig", None)):
            if isinstance(linked, BaseException):
                todo.append(linked)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)


def _transient_one(exc: BaseException) -> bool:
    if isinstance(exc, DependencyUnavailable | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError):
        if exc.errno in _TRANSIENT_ERRNOS:
            return True
        # asyncio's create_connection: "Multiple exceptions: [Errno 111] Connect call failed ..." (errno None)
        text = str(exc)
        return exc.errno is None and ("Connect call failed" in text or "Multiple exceptions" in text)
    if getattr(exc, "connection_invalidated", False):  # SQLAlchemy: the connection was lost mid-statement
        return True
    for cls in type(exc).__mro__:
        if cls.__name__ in _TRANSIENT_NAMES.get(cls.__module__, ()):
            return True
        if cls.__module__.startswith("aiokafka") and cls.__name__ == "KafkaError":
            return bool(getattr(exc, "retriable", False)) or type(exc).__name__ in {
                "KafkaConnectionError",
                "KafkaTimeoutError",
                "NodeNotReadyError",
                "RequestTimedOutError",
            }
    return False


def is_transient(exc: BaseException) -> bool:
    """Return True when ``exc`` (or anything it wraps) means a dependency is unavailable, not that the work is bad."""
    return any(_transient_one(e) for e in _chain(exc))
