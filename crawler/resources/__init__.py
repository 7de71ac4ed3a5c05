"""The registry of crawled resources: one module per resource, each a `Resource` declaration."""

from crawler.resources.base import (
    NUL_REPLACEMENT,
    Detail,
    Field,
    FieldType,
    Link,
    NormalizeError,
    Resource,
    arn_account_region,
)
from crawler.resources.copy_jobs import COPY_JOBS
from crawler.resources.custom_models import CUSTOM_MODELS
from crawler.resources.customization_jobs import CUSTOMIZATION_JOBS
from crawler.resources.imported_models import IMPORTED_MODELS

__all__ = [
    "NUL_REPLACEMENT",
    "RESOURCES",
    "Detail",
    "Field",
    "FieldType",
    "Link",
    "NormalizeError",
    "Resource",
    "arn_account_region",
    "resource_by_slug",
]

RESOURCES: tuple[Resource, ...] = (CUSTOM_MODELS, CUSTOMIZATION_JOBS, COPY_JOBS, IMPORTED_MODELS)

_BY_SLUG = {r.slug: r for r in RESOURCES}


def resource_by_slug(slug: str) -> Resource:
    """The resource named `slug`; KeyError when there is none."""
    return _BY_SLUG[slug]
