"""The Bedrock control plane over REST-JSON.

Operations are rows of :data:`ROUTES`; adding a List or Get operation over a stored collection is
one row. Errors follow the REST-JSON convention botocore parses: the status code, an
``x-amzn-ErrorType`` header carrying the code, and ``{"message": ...}`` as the body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from .errors import AwsError, access_denied, resource_not_found, validation
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


ROUTES: tuple[Route, ...] = (
    Route("ListCustomModels", "GET", "/custom-models", "custom-models", "modelSummaries"),
    Route(
        "ListModelCustomizationJobs",
        "GET",
        "/model-customization-jobs",
        "customization-jobs",
        "modelCustomizationJobSummaries",
    ),
    Route("ListModelCopyJobs", "GET", "/model-copy-jobs", "copy-jobs", "modelCopyJobSummaries"),
    Route("ListImportedModels", "GET", "/imported-models", "imported-models", "modelSummaries"),
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
        repeat_token=key in ctx.faults.repeat_token,
        empty_pages=key in ctx.faults.empty_pages,
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
