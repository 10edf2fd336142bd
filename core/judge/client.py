"""The OpenAI client of a judge run: API key lookup, redaction, and our own retry loop."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tiebreak.core.errors import TiebreakError
from tiebreak.core.logs import register_secret

if TYPE_CHECKING:  # openai takes seconds to import: it is imported where a call is made
    import openai

__all__ = ["JudgeError", "FatalJudgeError", "RetryPolicy", "resolve_api_key", "make_client",
           "call_with_retries", "retry_after_seconds", "redact", "is_retryable", "is_fatal", "describe"]  # fmt: skip

log = logging.getLogger(__name__)
T = TypeVar("T")

KEYRING_SERVICE = "tiebreak"
KEYRING_USER = "openai-api-key"
#: Placeholder sent to local servers (vLLM, Ollama, llama.cpp) that need no key.
NO_KEY = "no-key-needed"


class JudgeError(TiebreakError):
    """A judge run cannot proceed (message is safe to show: it never contains the key)."""


class FatalJudgeError(JudgeError):
    """An error that would hit every call (bad key, unknown model, no logprobs): stop the run."""


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on 429, 5xx, timeouts and connection errors: exponential backoff, Retry-After wins.

    ``sleep`` (default ``asyncio.sleep``) and ``jitter`` (default ``random.random``) are the
    clock and the randomness of the backoff; tests inject recording ones instead of waiting.
    """

    max_retries: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, compare=False, repr=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def delay(self, attempt: int, exc: BaseException) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based) after ``exc``."""
        after = retry_after_seconds(exc)
        if after is not None:
            return min(after, self.max_retry_after)
        backoff = min(self.max_delay, self.base_delay * 2**attempt)
        return backoff * (0.5 + self.jitter() / 2)  # jitter in [backoff/2, backoff]


def resolve_api_key(environ: dict[str, str] | None = None) -> str | None:
    """The API key: $OPENAI_API_KEY, else $TIEBREAK_API_KEY, else the OS keyring, else None.

    The keyring is optional (the ``keyring`` package); when it is absent or fails, it is skipped.
    """
    env = os.environ if environ is None else environ
    for var in ("OPENAI_API_KEY", "TIEBREAK_API_KEY"):
        if env.get(var):
            return env[var]
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or None
    except Exception:  # noqa: BLE001 - any keyring backend failure means "no key there"
        log.info("OS keyring not available; skipped")
        return None


def make_client(base_url: str | None, api_key: str | None, timeout: float) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` client with retries disabled (we retry ourselves, see call_with_retries).

    Raises
    ------
    JudgeError
        When no key is known and the endpoint is OpenAI's (local servers get a placeholder).
    """
    import openai  # imported on first use: the judge screens open without it
    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    if not api_key:
        if base_url is None:
            raise JudgeError("no API key: set OPENAI_API_KEY or TIEBREAK_API_KEY, or store one in "
                             f"the OS keyring (service {KEYRING_SERVICE!r}, user {KEYRING_USER!r})")  # fmt: skip
        api_key = NO_KEY
    register_secret(api_key)  # the log never shows it, whatever a library logs
    return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds asked for by the server's ``retry-after-ms`` / ``Retry-After`` header, if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                seconds = float(value) / scale
            except ValueError:
                continue
            if seconds >= 0:
                return seconds
    return None


def is_retryable(exc: BaseException) -> bool:
    """429, 5xx, 408/409, timeouts and connection errors are worth another try."""
    import openai  # imported on first use: the judge screens open without it
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def is_fatal(exc: BaseException) -> bool:
    """Errors that every further call would hit as well: bad key, no access, unknown model."""
    import openai  # imported on first use: the judge screens open without it
    return isinstance(exc, openai.APIStatusError) and exc.status_code in (401, 403, 404)


def redact(text: str, secret: str | None) -> str:
    """``text`` with the key (and anything shaped like an sk- key) replaced by ``[redacted]``."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "[redacted]")
    return re.sub(r"sk-[A-Za-z0-9_\-*]{6,}", "[redacted]", text)


def describe(exc: BaseException, secret: str | None) -> tuple[str, str]:
    """(short reason, redacted detail) of a failed call, for the failures table and summary."""
    import openai  # imported on first use: the judge screens open without it
    if isinstance(exc, openai.APITimeoutError):
        reason = "timeout"
    elif isinstance(exc, openai.APIConnectionError):
        reason = "connection error"
    elif isinstance(exc, openai.APIStatusError):
        reason = f"HTTP {exc.status_code}"
    else:
        reason = type(exc).__name__
    return reason, redact(str(exc), secret)[:500]


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    on_retry: Callable[[int, BaseException, float], Any] | None = None,
) -> T:
    """Await ``call()``, retrying retryable errors up to ``policy.max_retries`` times.

    Parameters
    ----------
    call : callable
        Makes one request (a fresh awaitable each time).
    policy : RetryPolicy
        Backoff settings; a server's Retry-After header overrides the computed delay.
    on_retry : callable, optional
        ``on_retry(attempt, exc, delay)`` before each sleep (used for counting retries).

    Raises
    ------
    Exception
        The last error when it is not retryable or the retries are used up.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_retryable(exc) or attempt >= policy.max_retries:
                raise
            delay = policy.delay(attempt, exc)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            await policy.sleep(delay)
            attempt += 1
