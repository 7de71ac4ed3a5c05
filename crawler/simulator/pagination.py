"""Opaque ``nextToken`` pagination, including the misbehaviours crawlers must survive.

A token is URL-safe base64 of a small JSON document naming the operation and the offset it
resumes at. Offsets (rather than "after ARN x") mirror what many AWS APIs effectively do: items
created or deleted between pages shift the window, which is exactly the churn a crawler meets.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import validation

__all__ = ["Cursor", "Page", "decode_token", "encode_token", "paginate"]


@dataclass(frozen=True)
class Cursor:
    offset: int = 0
    # Under the ``empty_pages`` fault every real page is preceded by an empty one; this records
    # that the empty page for ``offset`` has already been served.
    empty_served: bool = False


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_token: str | None


def encode_token(operation: str, cursor: Cursor) -> str:
    document = {"op": operation, "offset": cursor.offset, "empty": cursor.empty_served}
    return base64.urlsafe_b64encode(orjson.dumps(document)).decode("ascii")


def decode_token(operation: str, token: str) -> Cursor:
    try:
        document = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        document = None
    if (
        not isinstance(document, dict)
        or document.get("op") != operation
        or not isinstance(document.get("offset"), int)
        or document["offset"] < 0
        or not isinstance(document.get("empty"), bool)
    ):
        raise validation("The provided pagination token is invalid.")
    return Cursor(offset=document["offset"], empty_served=document["empty"])


def paginate(
    items: Sequence[Any],
    *,
    operation: str,
    page_size: int,
    token: str | None,
    repeat_token: bool = False,
    empty_pages: bool = False,
) -> Page:
    cursor = Cursor() if token is None else decode_token(operation, token)
    if repeat_token:
        # A broken service that hands back the token it was given: the page never advances,
        # and a crawler without loop detection pages forever.
        same_token = token or encode_token(operation, cursor)
        return Page(list(items[cursor.offset : cursor.offset + page_size]), same_token)
    if empty_pages and not cursor.empty_served:
        return Page([], encode_token(operation, Cursor(cursor.offset, empty_served=True)))
    end = cursor.offset + page_size
    next_token = encode_token(operation, Cursor(end)) if end < len(items) else None
    return Page(list(items[cursor.offset : end]), next_token)
