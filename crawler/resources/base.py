"""The declaration every resource module fills in, and the pure normaliser that reads it.

A resource is declared once: the API that lists it, the member holding the page's items, the
member holding its ARN, the documented fields that become typed columns, the ARN links to other
tables, and the IAM actions its calls need. The table (crawler.schema), the extractor, the loader
and the IAM policy test all read the same declaration, so adding a resource is one small module
here and one migration.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = [
    "NUL_REPLACEMENT",
    "Detail",
    "Field",
    "FieldType",
    "Link",
    "NormalizeError",
    "Resource",
    "arn_account_region",
    "camel_to_snake",
]

# PostgreSQL can store U+0000 neither in text nor in jsonb. A NUL in upstream data is replaced by
# U+2400 (SYMBOL FOR NULL) so the row still loads and the replacement stays visible to a reader.
NUL_REPLACEMENT = "\u2400"


class FieldType(enum.Enum):
    """How a documented API member is stored. Enums are TEXT, so a value newer than the code
    is kept verbatim."""

    TEXT = "text"
    TIMESTAMP = "timestamptz"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    BIGINT = "bigint"
    FLOAT = "double precision"
    JSON = "jsonb"


@dataclass(frozen=True, slots=True)
class Field:
    """One documented member of the API item, stored in its own typed column."""

    source: str
    type: FieldType = FieldType.TEXT
    column: str = ""
    comment: str = ""

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", camel_to_snake(self.source))


@dataclass(frozen=True, slots=True)
class Link:
    """A column holding the ARN of an asset in another (or the same) table."""

    column: str
    targets: tuple[str, ...]  # table names the ARN may point at


@dataclass(frozen=True, slots=True)
class Detail:
    """A Get operation called for every listed item, its members merged over the summary's."""

    operation: str  # botocore operation name, e.g. "GetImportedModel"
    identifier_param: str  # request member taking the item's ARN, e.g. "modelIdentifier"


@dataclass(frozen=True, slots=True)
class Resource:
    """Everything the crawler knows about one kind of Bedrock asset."""

    slug: str  # CLI name, e.g. "custom-models"
    table: str  # Postgres table, e.g. "custom_models"
    list_operation: str  # botocore operation name, e.g. "ListCustomModels"
    list_key: str  # response member holding the page's items
    arn_field: str  # item member holding the asset's ARN, the table's primary key
    fields: tuple[Field, ...]
    comment: str
    list_params: Mapping[str, Any] = field(default_factory=dict)
    detail: Detail | None = None
    links: tuple[Link, ...] = ()
    page_size: int = 1000  # the largest maxResults the API allows
    readable: tuple[str, ...] = ()  # columns analysts read first (current_<table> views)

    @property
    def operations(self) -> tuple[str, ...]:
        """Every Bedrock operation a crawl of this resource calls."""
        ops = [self.list_operation]
        if self.detail is not None:
            ops.append(self.detail.operation)
        return tuple(ops)

    @property
    def iam_actions(self) -> tuple[str, ...]:
        """The IAM actions a crawl of this resource needs: one per operation."""
        return tuple(f"bedrock:{op}" for op in self.operations)

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns written by a load, in the order `normalize` returns its values."""
        return ("arn", "account_id", "region", *(f.column for f in self.fields), "raw")

    def normalize(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        """Turn one API item into a row of `columns`. Pure: the item is read, never changed.

        Raises NormalizeError when the item has no usable ARN: such an item cannot be stored.
        """
        clean = _without_nul(item)
        arn = clean.get(self.arn_field)
        if not isinstance(arn, str) or not arn:
            raise NormalizeError(f"{self.slug}: item without {self.arn_field}")
        account_id, region = arn_account_region(arn)
        values = [_convert(clean.get(f.source), f.type) for f in self.fields]
        raw = orjson.dumps(clean).decode()
        return (arn, account_id, region, *values, raw)


class NormalizeError(ValueError):
    """An API item that cannot become a row (no ARN)."""


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def camel_to_snake(name: str) -> str:
    """`baseModelArn` -> `base_model_arn`, `modelKmsKeyArn` -> `model_kms_key_arn`."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def arn_account_region(arn: str) -> tuple[str, str]:
    """The account id and region of an ARN (`arn:partition:service:region:account:resource`)."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "", ""
    return parts[4], parts[3]


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", NUL_REPLACEMENT) if "\x00" in value else value
    if isinstance(value, Mapping):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _convert(value: Any, kind: FieldType) -> Any:
    """Convert one JSON value to the column's Python type; a value of the wrong shape is NULL
    in the typed column (it is still kept verbatim in `raw`)."""
    if value is None:
        return None
    match kind:
        case FieldType.TEXT:
            return value if isinstance(value, str) else orjson.dumps(value).decode()
        case FieldType.TIMESTAMP:
            return _timestamp(value)
        case FieldType.BOOLEAN:
            return value if isinstance(value, bool) else None
        case FieldType.INTEGER | FieldType.BIGINT:
            return value if isinstance(value, int) and not isinstance(value, bool) else None
        case FieldType.FLOAT:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return float(value) if ok else None
        case FieldType.JSON:
            return orjson.dumps(value).decode()


def _timestamp(value: Any) -> datetime | None:
    """AWS REST-JSON timestamps: ISO-8601 strings, or epoch seconds as a number."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return None
