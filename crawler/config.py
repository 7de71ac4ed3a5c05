"""Validation of user input: each parser returns clean values or raises ConfigError with a
one-line message naming the bad value."""

from __future__ import annotations

import os
import re

from crawler.db import DatabaseUrl
from crawler.errors import ConfigError
from crawler.resources import RESOURCES, Resource, resource_by_slug

__all__ = [
    "database_url",
    "parse_accounts",
    "parse_external_id",
    "parse_positive",
    "parse_regions",
    "parse_resources",
    "parse_role_name",
]

_ACCOUNT = re.compile(r"\d{12}")
# us-east-1, eu-central-2, ap-southeast-3, us-gov-west-1, cn-north-1, eusc-de-east-1
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")


def _items(value: str, what: str) -> list[str]:
    items = [item.strip() for item in value.split(",")]
    if not value.strip() or any(not item for item in items):
        raise ConfigError(f"bad {what} list {value!r}: give comma-separated values, none empty")
    return items


def parse_accounts(value: str) -> tuple[str, ...]:
    accounts = _items(value, "account")
    for account in accounts:
        if not _ACCOUNT.fullmatch(account):
            raise ConfigError(f"bad account id {account!r}: an AWS account id is 12 digits")
    return tuple(dict.fromkeys(accounts))


def parse_regions(value: str) -> tuple[str, ...]:
    regions = _items(value, "region")
    for region in regions:
        if not _REGION.fullmatch(region):
            raise ConfigError(f"bad region {region!r}: expected a name like us-east-1")
    return tuple(dict.fromkeys(regions))


def parse_resources(value: str) -> tuple[Resource, ...]:
    slugs = _items(value, "resource")
    chosen = []
    for slug in dict.fromkeys(slugs):
        try:
            chosen.append(resource_by_slug(slug))
        except KeyError:
            known = ", ".join(r.slug for r in RESOURCES)
            raise ConfigError(f"unknown resource {slug!r}: known resources are {known}") from None
    return tuple(chosen)


def parse_role_name(value: str) -> str:
    if not _ROLE_NAME.fullmatch(value):
        raise ConfigError(f"bad role name {value!r}: 1-64 letters, digits or +=,.@_-")
    return value


def parse_external_id(value: str) -> str:
    if not _EXTERNAL_ID.fullmatch(value):
        # The value itself is not echoed: an external id is a shared secret of sorts.
        raise ConfigError("bad external id: 2-1224 letters, digits or +=,.@:/_-")
    return value


def parse_positive(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"bad {what} {value!r}: expected a whole number of at least 1")
    return number


def database_url(flag: str | None) -> DatabaseUrl | None:
    """`--database-url`, else DATABASE_URL; None when neither is given (the embedded server)."""
    value = flag if flag is not None else os.environ.get("DATABASE_URL")
    if value is None:
        return None
    if not value.strip():
        raise ConfigError("empty database URL: give --database-url or DATABASE_URL a value")
    return DatabaseUrl.parse(value)
