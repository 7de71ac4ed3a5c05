"""Listing one scope: follow nextToken page by page, retrying one page (never the whole listing)
on transient errors, and fetch each item's details where the resource declares a Get."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from crawler.errors import ErrorClass, PaginationLoop, ScopeFailed, classify
from crawler.extract.aws import raw_body
from crawler.resources import Resource

__all__ = ["RetryPolicy", "ScopeCounters", "list_items"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one AWS call is retried on a transient error (throttling, 429, 5xx, connection
    errors, timeouts).

    The wait before attempt n+1 is drawn uniformly from [0, min(max_delay, base_delay * 2**n)]
    ("full jitter", so many throttled workers spread out instead of retrying in lockstep).
    With the defaults, the total budget of one call is 8 attempts and at most 120 s: the waits
    add up to at most 0.1 * (1+2+4+...+64) = 12.7 s, the rest is the calls themselves (each
    bounded by the client's connect and read timeouts). botocore's own retries are off
    (total_max_attempts=1), so these are the only retries.
    """

    max_attempts: int = 8
    max_seconds: float = 120.0
    base_delay: float = 0.1
    max_delay: float = 20.0


@dataclass(slots=True)
class ScopeCounters:
    """What one scope did, for its log line and its crawl_scopes row."""

    pages: int = 0
    items: int = 0
    retries: int = 0


def _is_transient(exc: BaseException) -> bool:
    return classify(exc).kind is ErrorClass.TRANSIENT


async def call(
    fn: Callable[..., Awaitable[dict[str, Any]]],
    params: Mapping[str, Any],
    policy: RetryPolicy,
    counters: ScopeCounters,
) -> dict[str, Any]:
    """One AWS call under the retry policy; the last error is raised when the budget is spent."""

    def count_retry(_: RetryCallState) -> None:
        counters.retries += 1

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_seconds),
        wait=wait_random_exponential(multiplier=policy.base_delay, max=policy.max_delay),
        retry=retry_if_exception(_is_transient),
        before_sleep=count_retry,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await fn(**params)
    raise AssertionError("unreachable: tenacity either returns or reraises")


async def list_items(
    client: Any,
    resource: Resource,
    policy: RetryPolicy,
    counters: ScopeCounters,
    *,
    detail_concurrency: int = 4,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Yield the raw items of each page of `resource` in this client's (account, region).

    Raises ScopeFailed on a terminal error or an exhausted retry budget. Empty pages that still
    carry a nextToken are followed; a nextToken seen before is a pagination loop and fails the
    scope instead of looping forever.
    """
    list_call = getattr(client, xform_name(resource.list_operation))
    seen_tokens: set[str] = set()
    token: str | None = None
    while True:
        params: dict[str, Any] = {**resource.list_params, "maxResults": resource.page_size}
        if token is not None:
            params["nextToken"] = token
        try:
            body = raw_body(await call(list_call, params, policy, counters))
        except Exception as exc:
            raise _scope_failure(exc) from exc
        counters.pages += 1
        items = [item for item in body.get(resource.list_key) or [] if isinstance(item, dict)]
        if resource.detail is not None and items:
            items = await _with_details(
                client, resource, items, policy, counters, detail_concurrency
            )
        counters.items += len(items)
        yield items
        next_token = body.get("nextToken")
        if not next_token:
            return
        if next_token in seen_tokens:
            raise _scope_failure(
                PaginationLoop(f"{resource.list_operation} returned nextToken it had given before")
            )
        seen_tokens.add(next_token)
        token = next_token


async def _with_details(
    client: Any,
    resource: Resource,
    summaries: list[dict[str, Any]],
    policy: RetryPolicy,
    counters: ScopeCounters,
    concurrency: int,
) -> list[dict[str, Any]]:
    """Each summary merged with its Get answer (the Get's members win; neither is lost). An item
    the Get no longer finds was deleted since the listing: it is left out, not an error."""
    assert resource.detail is not None
    get_call = getattr(client, xform_name(resource.detail.operation))
    limit = asyncio.Semaphore(concurrency)
    results: list[dict[str, Any] | None] = [None] * len(summaries)

    async def fetch(index: int, summary: dict[str, Any]) -> None:
        assert resource.detail is not None
        arn = summary.get(resource.arn_field)
        if not isinstance(arn, str):
            return
        async with limit:
            try:
                answer = await call(
                    get_call, {resource.detail.identifier_param: arn}, policy, counters
                )
            except Exception as exc:
                if classify(exc).code == "ResourceNotFoundException":
                    return
                raise _scope_failure(exc) from exc
        results[index] = {**summary, **raw_body(answer)}

    try:
        async with asyncio.TaskGroup() as group:
            for index, summary in enumerate(summaries):
                group.create_task(fetch(index, summary))
    except* ScopeFailed as failures:
        raise failures.exceptions[0] from None
    return [item for item in results if item is not None]


def _scope_failure(exc: BaseException) -> ScopeFailed:
    if isinstance(exc, ScopeFailed):
        return exc
    classified = classify(exc)
    return ScopeFailed(classified.code, classified.message)
