"""What the dispatcher and the per-service protocol modules agree on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web

from .auth import CredentialStore, Principal
from .errors import AwsError
from .faults import Faults
from .world import Account, World

__all__ = ["Handler", "RequestContext", "Resolved", "Service", "resolve_query_action"]


@dataclass(frozen=True)
class RequestContext:
    """One authenticated request that passed the fault gate, as a handler sees it."""

    world: World
    faults: Faults
    credentials: CredentialStore
    principal: Principal
    account: Account
    region: str
    operation: str
    args: Mapping[str, str]
    now: datetime
    request_id: str


# Handlers are plain functions: the simulated state is in memory, so there is nothing to await,
# and a handler that cannot yield cannot see the world change halfway through a page.
Handler = Callable[[RequestContext], web.Response]


@dataclass(frozen=True)
class Resolved:
    """The operation a request names, its handler and its input members (path, query, form)."""

    operation: str
    handler: Handler
    args: Mapping[str, str]


class Service(Protocol):
    """A wire protocol for one AWS service (the SigV4 scope's service name picks it).

    ``regional`` services refuse callers in regions their account has not enabled; a global
    service (Organizations) answers in any region.
    """

    name: str
    regional: bool

    async def resolve(self, request: web.BaseRequest) -> Resolved:
        """Identify the operation; raise :class:`AwsError` when there is none."""
        ...

    def render_error(self, error: AwsError, request_id: str) -> web.Response: ...


async def resolve_query_action(
    request: web.BaseRequest, operations: Mapping[str, Handler], unknown: Callable[[str], str]
) -> Resolved:
    """The AWS query protocol (STS, EC2): the operation is the `Action` member, and the input
    members come from the form body botocore POSTs (or the query string, which AWS accepts
    too). `unknown(action)` words the error for an action the service does not have."""
    form = await request.post()
    args = dict(request.query)
    args.update((name, value) for name, value in form.items() if isinstance(value, str))
    action = args.get("Action", "")
    handler = operations.get(action)
    if handler is None:
        raise AwsError(400, "UnknownOperationException", unknown(action))
    return Resolved(action, handler, args)
