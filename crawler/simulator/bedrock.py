"""The Bedrock control plane over REST-JSON.

Operations are rows of :data:`ROUTES`; adding a List or Get operation over a stored collection is
one row. Errors follow the REST-JSON convention botocore parses: the status code, an
``x-amzn-ErrorType`` header carrying the code, and ``{"message": ...}`` as the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from .errors import AwsError, access_denied, resource_not_found, validation
from .faults import key_matches
from .pagination import paginate
from .protocol import RequestContext, Resolved
from .world import COLLECTIONS, CollectionSpec, Item

__all__ = ["ROUTES", "BedrockService", "Route"]

DEFAULT_MAX_RESULTS = 100  # AWS documents 1..1000 but answers far fewer than 1000 by default
MAX_RESULTS_RANGE = range(1, 1001)
SORT_ORDERS = ("Ascending", "Descending")
_LABEL = re.compile(r"^\{(\w+)\}$")


@dataclass(frozen=True)
class Route:
    """One operation: its HTTP binding and the stored collection it reads.

    List operations name the response member that holds the page (``list_key``); Get operations
    have none, answer the stored item itself and take its ARN or name from the path's one label.
    """

    operation: str
    method: str
    path: str
    collection: str
    list_key: str | None = None
    # Query members (wire names) filtering a List; each is a key of _FILTERS.
    filters: tuple[str, ...] = ()

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    @property
    def identifier(self) -> str:
        """The name of the path label that identifies the item of a Get operation."""
        labels = [label[1] for segment in self.segments if (label := _LABEL.match(segment))]
        if len(labels) != 1:
            raise ValueError(f"{self.operation}: expected one path label in {self.path}")
        return labels[0]

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        """The decoded path labels when the request is for this route, else ``None``."""
        if method != self.method or len(segments) != len(self.segments):
            return None
        labels: dict[str, str] = {}
        for template, actual in zip(self.segments, segments, strict=True):
            label = _LABEL.match(template)
            if label is not None:
                # Each segment is decoded on its own: an ARN arrives with "/" escaped as %2F and
                # must not be split into segments before the match.
                labels[label[1]] = unquote(actual)
            elif template != actual:
                return None
        return labels


# The list filters of each operation: query member -> predicate builder (see _FILTERS).
_TIME_FILTERS = ("creationTimeAfter", "creationTimeBefore")
ROUTES: tuple[Route, ...] = (
    Route(
        "ListCustomModels",
        "GET",
        "/custom-models",
        "custom-models",
        "modelSummaries",
        filters=(
            *_TIME_FILTERS,
            "nameContains",
            "baseModelArnEquals",
            "foundationModelArnEquals",
            "isOwned",
            "modelStatus",
        ),
    ),
    Route(
        "ListModelCustomizationJobs",
        "GET",
        "/model-customization-jobs",
        "customization-jobs",
        "modelCustomizationJobSummaries",
        filters=(*_TIME_FILTERS, "statusEquals", "nameContains"),
    ),
    Route(
        "ListModelCopyJobs",
        "GET",
        "/model-copy-jobs",
        "copy-jobs",
        "modelCopyJobSummaries",
        filters=(
            *_TIME_FILTERS,
            "statusEquals",
            "sourceAccountEquals",
            "sourceModelArnEquals",
            "outputModelNameContains",
        ),
    ),
    Route(
        "ListImportedModels",
        "GET",
        "/imported-models",
        "imported-models",
        "modelSummaries",
        filters=(*_TIME_FILTERS, "nameContains"),
    ),
    Route("GetImportedModel", "GET", "/imported-models/{modelIdentifier}", "imported-models"),
)


def json_response(status: int, body: Mapping[str, Any], request_id: str) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type="application/json",
        headers={"x-amzn-RequestId": request_id},
    )


class BedrockService:
    name = "bedrock"
    regional = True

    def __init__(self, routes: tuple[Route, ...] = ROUTES) -> None:
        self.routes = routes

    async def resolve(self, request: web.BaseRequest) -> Resolved:
        segments = request.rel_url.raw_path.strip("/").split("/")
        for route in self.routes:
            labels = route.match(request.method, segments)
            if labels is not None:
                # Path labels and query members never share a name in the Bedrock model.
                args = {**request.query, **labels}
                return Resolved(route.operation, partial(_invoke, route), args)
        raise AwsError(404, "UnknownOperationException", "The requested operation is unknown.")

    def render_error(self, error: AwsError, request_id: str) -> web.Response:
        response = json_response(error.status, {"message": error.message}, request_id)
        response.headers["x-amzn-ErrorType"] = error.code
        return response


def _invoke(route: Route, ctx: RequestContext) -> web.Response:
    if ctx.account.denied:
        raise access_denied(
            f"User: {ctx.principal.arn} is not authorized to perform: "
            f"bedrock:{route.operation} because no identity-based policy allows the action"
        )
    spec = COLLECTIONS[route.collection]
    items = ctx.account.items(ctx.region, route.collection)
    if route.list_key is None:
        body = _get(route, spec, items, ctx)
    else:
        body = _list(route, route.list_key, spec, items, ctx)
    return json_response(200, body, ctx.request_id)


def _list(
    route: Route, list_key: str, spec: CollectionSpec, items: list[Item], ctx: RequestContext
) -> dict[str, Any]:
    page_size = _max_results(ctx.args.get("maxResults"))
    if ctx.faults.page_size_cap is not None:
        page_size = min(page_size, ctx.faults.page_size_cap)
    sort_order = ctx.args.get("sortOrder", "Descending")
    if sort_order not in SORT_ORDERS:
        raise _enum_error("sortOrder", sort_order, SORT_ORDERS)
    sort_by = ctx.args.get("sortBy", "CreationTime")
    if sort_by != "CreationTime":
        raise _enum_error("sortBy", sort_by, ("CreationTime",))
    predicates = [
        _FILTERS[name](ctx.args[name], route.collection, ctx.account.account_id)
        for name in route.filters
        if name in ctx.args
    ]
    if predicates:
        items = [item for item in items if all(predicate(item) for predicate in predicates)]
    ordered = sorted(
        items,
        key=lambda item: (_creation_time(item), str(item.get(spec.arn_key))),
        reverse=sort_order == "Descending",
    )
    key = (ctx.account.account_id, ctx.region, route.operation)
    page = paginate(
        ordered,
        operation=route.operation,
        page_size=page_size,
        token=ctx.args.get("nextToken"),
        repeat_token=key_matches(ctx.faults.repeat_token, key),
        empty_pages=key_matches(ctx.faults.empty_pages, key),
    )
    body: dict[str, Any] = {
        list_key: [
            {name: value for name, value in item.items() if name not in spec.detail_only}
            for item in page.items
        ]
    }
    if page.next_token is not None:
        body["nextToken"] = page.next_token
    return body


def _get(route: Route, spec: CollectionSpec, items: list[Item], ctx: RequestContext) -> Item:
    identifier = ctx.args[route.identifier]
    item = next((item for item in items if _identifies(identifier, item, spec)), None)
    # not_found_on_get simulates an item deleted between the List that showed it and this Get.
    if item is not None and item.get(spec.arn_key) not in ctx.faults.not_found_on_get:
        return item
    raise resource_not_found(
        f"The specified resource {identifier} was not found. Check it and try your request again."
    )


def _identifies(identifier: str, item: Item, spec: CollectionSpec) -> bool:
    if item.get(spec.arn_key) == identifier:
        return True
    return spec.name_key is not None and item.get(spec.name_key) == identifier


def _max_results(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_MAX_RESULTS
    try:
        value = int(raw)
    except ValueError:
        raise validation(
            f"Value '{raw}' at 'maxResults' failed to satisfy constraint: Member must be an integer"
        ) from None
    if value not in MAX_RESULTS_RANGE:
        bound = (
            f"greater than or equal to {MAX_RESULTS_RANGE.start}"
            if value < MAX_RESULTS_RANGE.start
            else f"less than or equal to {MAX_RESULTS_RANGE.stop - 1}"
        )
        raise validation(
            f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )
    return value


def _enum_error(member: str, value: str, allowed: tuple[str, ...]) -> AwsError:
    return validation(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _creation_time(item: Item) -> datetime:
    # Hostile or hand-written items may carry no usable creationTime; they sort as oldest
    # rather than breaking the listing.
    raw = item.get("creationTime")
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return _EPOCH
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return _EPOCH


# --- list filters -------------------------------------------------------------------------------

Predicate = Callable[[Item], bool]
MODEL_STATUSES = ("Active", "Creating", "Failed")
STATUSES = {
    "customization-jobs": ("InProgress", "Completed", "Failed", "Stopping", "Stopped"),
    "copy-jobs": ("InProgress", "Completed", "Failed"),
}
_FOUNDATION_ID = re.compile(r":(?:foundation-model|custom-model)/([^/]+)")


# Builds the predicate of one filter from (query value, collection, listing account id); raises
# ValidationException for a value the real service would refuse.
FilterBuilder = Callable[[str, str, str], Predicate]


def _time_filter(member: str, *, after: bool) -> FilterBuilder:
    def build(raw: str, collection: str, account_id: str) -> Predicate:
        try:
            bound = datetime.fromisoformat(raw)
        except ValueError:
            raise validation(
                f"1 validation error detected: Value '{raw}' at '{member}' failed to satisfy "
                "constraint: Member must be a timestamp"
            ) from None
        if bound.tzinfo is None:
            bound = bound.replace(tzinfo=UTC)
        if after:
            return lambda item: _creation_time(item) > bound
        return lambda item: _creation_time(item) < bound

    return build


def _name_contains(raw: str, collection: str, account_id: str) -> Predicate:
    return _contains(COLLECTIONS[collection].name_key or "")(raw, collection, account_id)


def _contains(member: str) -> FilterBuilder:
    def build(raw: str, collection: str, account_id: str) -> Predicate:
        needle = raw.casefold()
        return lambda item: needle in str(item.get(member, "")).casefold()

    return build


def _equals(member: str) -> FilterBuilder:
    return lambda raw, collection, account_id: lambda item: item.get(member) == raw


def _status_equals(raw: str, collection: str, account_id: str) -> Predicate:
    allowed = STATUSES[collection]
    if raw not in allowed:
        raise _enum_error("statusEquals", raw, allowed)
    return lambda item: item.get("status") == raw


def _model_status(raw: str, collection: str, account_id: str) -> Predicate:
    if raw not in MODEL_STATUSES:
        raise _enum_error("modelStatus", raw, MODEL_STATUSES)
    return lambda item: item.get("modelStatus") == raw


def _is_owned(raw: str, collection: str, account_id: str) -> Predicate:
    # A custom model whose ownerAccountId is another account's was shared with the listing
    # account; an item without ownerAccountId counts as owned.
    if raw not in ("true", "false"):
        raise validation(
            f"1 validation error detected: Value '{raw}' at 'isOwned' failed to satisfy "
            "constraint: Member must be a boolean"
        )
    wanted = raw == "true"

    return lambda item: (item.get("ownerAccountId", account_id) == account_id) == wanted


def _foundation_model(raw: str, collection: str, account_id: str) -> Predicate:
    # The foundation model at the root of the model's lineage: a model customised from another
    # custom model still names the foundation model's id in its base model's ARN.
    wanted = _FOUNDATION_ID.search(raw)

    def matches(item: Item) -> bool:
        found = _FOUNDATION_ID.search(str(item.get("baseModelArn", "")))
        return wanted is not None and found is not None and found[1] == wanted[1]

    return matches


_FILTERS: dict[str, FilterBuilder] = {
    "creationTimeAfter": _time_filter("creationTimeAfter", after=True),
    "creationTimeBefore": _time_filter("creationTimeBefore", after=False),
    "nameContains": _name_contains,
    "baseModelArnEquals": _equals("baseModelArn"),
    "foundationModelArnEquals": _foundation_model,
    "isOwned": _is_owned,
    "modelStatus": _model_status,
    "statusEquals": _status_equals,
    "sourceAccountEquals": _equals("sourceAccountId"),
    "sourceModelArnEquals": _equals("sourceModelArn"),
    "outputModelNameContains": _contains("targetModelName"),
}
