"""Logging: one line per event, JSON lines off a terminal, and secrets scrubbed from every line.

Secrets are kept out at the source (nothing logs credentials or the database URL's password),
and every formatted line is scrubbed once more before it is written: known secret values
registered at start-up, AWS access key ids, and passwords inside URLs.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

__all__ = ["LogFormat", "event", "redact", "register_secret", "setup_logging"]

LogFormat = Literal["auto", "json", "text"]

_LOGGER = logging.getLogger("bedrock_inventory")
_secrets: set[str] = set()

_PATTERNS = (
    # AWS access key ids (long-term AKIA, temporary ASIA).
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b"), "<access-key-id>"),
    # user:password@ in any URL.
    (re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@"), r"\g<head>***@"),
    # key=value pairs that name a secret.
    (
        re.compile(
            r"(?i)(?P<head>(?:secret_?access_?key|session_?token|password|passwd)[\"']?\s*[=:]\s*[\"']?)"
            r"[^\s\"',;&]+"
        ),
        r"\g<head>***",
    ),
)


def register_secret(value: str | None) -> None:
    """Never let `value` reach a log line or an error message."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret and secret-looking token replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", record.name),
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            payload["error"] = str(record.exc_info[1]).splitlines()[0]
        return redact(orjson.dumps(payload, default=str).decode())


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        tail = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{stamp} {record.levelname.lower():5} {record.getMessage()}"
        return redact(f"{line} {tail}" if tail else line)


def setup_logging(fmt: LogFormat = "auto", *, level: int = logging.INFO) -> None:
    """Route our loggers to stderr: JSON when stderr is not a terminal (or asked for)."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if use_json else _TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    _LOGGER.setLevel(level)
    # botocore at DEBUG logs request headers and bodies; keep it quiet whatever the root says.
    for noisy in ("botocore", "aiobotocore", "aioboto3", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def event(name: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event."""
    _LOGGER.log(level, message, extra={"event": name, "fields": fields})
