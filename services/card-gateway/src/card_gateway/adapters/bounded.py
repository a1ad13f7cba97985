"""Blocking calls with a time limit the caller can rely on, for PC/SC calls that cannot be interrupted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class AbandonedCallTracker:
    """Runs blocking calls in worker threads with a time limit; a call given up on is cleaned up when it ends.

    At most one abandoned call per key (reader) exists: while it is still stuck, a new call for that key waits for
    it within its own time limit and never starts a second worker.
    """

    def __init__(self) -> None:
        self._stuck: dict[str, threading.Event] = {}
        self._guard = threading.Lock()

    def stuck(self, key: str) -> bool:
        """Return whether an abandoned call for ``key`` is still running."""
        with self._guard:
            return key in self._stuck

    def run(
        self,
        key: str,
        call: Callable[[], T],
        *,
        timeout_s: float,
        cleanup: Callable[[T], None],
        on_timeout: Callable[[], Exception],
    ) -> T:
        """Return ``call()`` if it ends within ``timeout_s``; else raise ``on_timeout()`` and ``cleanup`` it later."""
        give_up = time.monotonic() + timeout_s
        with self._guard:
            earlier = self._stuck.get(key)
        if earlier is not None and not earlier.wait(timeout_s):
            raise on_timeout()
        outcome: list[T] = []
        failure: list[BaseException] = []
        done = threading.Event()
        state = threading.Lock()
        abandoned = threading.Event()

        def work() -> None:
            try:
                result = call()
            except BaseException as exc:  # handed to the caller, or dropped when it gave up
                with state:
                    failure.append(exc)
                    done.set()
                if abandoned.is_set():
                    log.info("a call given up on ended with %r", exc)
                    self._release(key)
                return
            with state:
                outcome.append(result)
                done.set()
            if abandoned.is_set():
                try:
                    cleanup(result)
                except Exception:
                    log.exception("cleaning up a call given up on failed")
                finally:
                    self._release(key)

        with self._guard:
            if key in self._stuck:  # another caller gave up on a new call meanwhile
                raise on_timeout()
        thread = threading.Thread(target=work, name=f"bounded-call {key}", daemon=True)
        thread.start()
        done.wait(max(0.0, give_up - time.monotonic()))
        with state:
            if not done.is_set():
                with self._guard:
                    self._stuck[key] = threading.Event()
                abandoned.set()
                raise on_timeout()
        if failure:
            raise failure[0]
        return outcome[0]

    def _release(self, key: str) -> None:
        """Forget the abandoned call for ``key`` once it has ended, and wake callers waiting for it."""
        with self._guard:
            ended = self._stuck.pop(key, None)
        if ended is not None:
            ended.set()
