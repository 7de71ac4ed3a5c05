"""Errors the crawler raises, and the classification of AWS errors into transient (retried) and
terminal (the scope fails at once, its error code recorded)."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

import aiohttp
from botocore import exceptions as botocore_exceptions

__all__ = [
    "EXIT_BAD_CONFIG",
    "EXIT_LOCK_HELD",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "Classified",
    "ConfigError",
    "ErrorClass",
    "LockHeld",
    "PaginationLoop",
    "ScopeFailed",
    "classify",
]

EXIT_OK = 0
EXIT_PARTIAL = 1  # at least one scope failed; every other scope was loaded
EXIT_BAD_CONFIG = 2  # bad usage, bad configuration, or the database unreachable
EXIT_LOCK_HELD = 3  # another crawl holds the lock
# Interrupted by a signal: 128 + the signal number (130 for SIGINT, 143 for SIGTERM).


class ConfigError(Exception):
    """Bad usage or configuration: a one-line message, exit 2."""


class LockHeld(Exception):
    """Another crawl holds the database lock: exit 3."""


class PaginationLoop(Exception):
    """The API handed back a nextToken it had already given: following it would never end."""


class ErrorClass(enum.Enum):
    TRANSIENT = "transient"  # worth another attempt after a backoff
    TERMINAL = "terminal"  # another attempt gives the same answer: fail the scope now


@dataclass(frozen=True, slots=True)
class Classified:
    kind: ErrorClass
    code: str  # the AWS error code, or our own name for a non-AWS failure
    message: str


class ScopeFailed(Exception):
    """A scope ended in a terminal error; carries the code and message to record."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",
        "InternalServerException",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


def classify(exc: BaseException) -> Classified:
    """Decide whether `exc`, raised by one AWS call, is worth retrying."""
    if isinstance(exc, botocore_exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        message = str(error.get("Message") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        transient = code in _TRANSIENT_CODES or status in _TRANSIENT_STATUSES
        return Classified(ErrorClass.TRANSIENT if transient else ErrorClass.TERMINAL, code, message)
    if isinstance(exc, PaginationLoop):
        return Classified(ErrorClass.TERMINAL, "PaginationLoop", str(exc))
    if isinstance(
        exc,
        botocore_exceptions.ReadTimeoutError
        | botocore_exceptions.ConnectTimeoutError
        | TimeoutError
        | asyncio.TimeoutError,
    ):
        return Classified(ErrorClass.TRANSIENT, "Timeout", _first_line(exc))
    if isinstance(
        exc,
        botocore_exceptions.HTTPClientError
        | botocore_exceptions.ConnectionError
        | aiohttp.ClientError
        | ConnectionError,
    ):
        return Classified(ErrorClass.TRANSIENT, "ConnectionError", _first_line(exc))
    if isinstance(exc, botocore_exceptions.NoCredentialsError):
        return Classified(ErrorClass.TERMINAL, "NoCredentials", _first_line(exc))
    if isinstance(exc, botocore_exceptions.BotoCoreError):
        return Classified(ErrorClass.TERMINAL, type(exc).__name__, _first_line(exc))
    return Classified(ErrorClass.TERMINAL, type(exc).__name__, _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
