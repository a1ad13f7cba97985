"""Which failures are transient (a dependency is away: wait and retry) and which are about the work itself."""

from __future__ import annotations

import errno

import aiosmtplib
import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shared.failures import DependencyUnavailable, is_transient
from shared.settings import MessagingSettings

pytestmark = pytest.mark.unit


class _Model(BaseModel):
    count: int


def _validation_error() -> ValidationError:
    try:
        _Model.model_validate({"count": "many"})
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


def _wrapped(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as caught:
        return caught
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)"),
        ConnectionResetError(errno.ECONNRESET, "reset"),
        TimeoutError(),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', 5432)"),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.InterfaceError("connection is closed"),
        OperationalError("SELECT 1", {}, ConnectionRefusedError(errno.ECONNREFUSED, "refused")),
        DBAPIError("SELECT 1", {}, Exception("lost"), connection_invalidated=True),
        aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1 on port 25"),
        aiosmtplib.SMTPServerDisconnected("Connection lost"),
        httpx.ConnectError("All connection attempts failed"),
        httpx.ReadTimeout("timed out"),
        KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092)]"),
        DependencyUnavailable("the tax-data provider does not answer"),
        ExceptionGroup("several", [ConnectionRefusedError(errno.ECONNREFUSED, "refused")]),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_dependency_that_does_not_answer_is_transient(error: BaseException) -> None:
    assert is_transient(error)


def test_a_content_error_raised_from_an_outage_is_still_an_outage() -> None:
    assert is_transient(
        _wrapped(RuntimeError("handler failed"), ConnectionRefusedError(errno.ECONNREFUSED, "x"))
    )


@pytest.mark.parametrize(
    "error",
    [
        ValueError("not a receipt number"),
        KeyError("recipients"),
        RuntimeError("this handler cannot cope with this event"),
        _validation_error(),
        IntegrityError("INSERT", {}, asyncpg.exceptions.UniqueViolationError("duplicate key")),
        asyncpg.exceptions.DataError("invalid input syntax for type uuid"),
        FileNotFoundError(errno.ENOENT, "blob missing"),
        PermissionError(errno.EACCES, "denied"),
        aiosmtplib.SMTPRecipientsRefused([]),
        httpx.HTTPStatusError("404", request=httpx.Request("GET", "http://x"), response=httpx.Response(404)),
        MessageSizeTooLargeError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_about_the_message_itself_is_not_transient(error: BaseException) -> None:
    assert not is_transient(error)


def test_a_hold_shorter_than_the_backoff_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="below MESSAGING__CONSUMER_HOLD_S"):
        MessagingSettings(consumer_transient_backoff_max_s=60, consumer_hold_s=30)
    with pytest.raises(ValidationError, match="between 0 and 240"):
        MessagingSettings(consumer_hold_s=400)  # a member held that long would be dropped from its group
